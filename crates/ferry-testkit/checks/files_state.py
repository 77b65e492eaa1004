"""What a share holds, read by the official Azure Files client (azure-storage-file-share, pinned in
tools/requirements.txt), an independent client: one JSON line per file, sorted by path, with its
size, the MD5 of its bytes, its stored Content-MD5, SMB attributes, creation and last-write times, and
its permission as SDDL. With --mark it first gives files SMB properties to copy.

Usage: files_state.py ACCOUNT_URL SHARE
       files_state.py ACCOUNT_URL SHARE --mark PATH ATTRIBUTES CREATION_ISO SDDL
       files_state.py ACCOUNT_URL SHARE --paths   (every file and directory, directories ending in /)"""

import base64
import datetime
import hashlib
import json
import sys

from azure.storage.fileshare import NTFSAttributes, ShareClient

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def walk(share, path="", directories=False):
    directory = share.get_directory_client(path)
    for item in directory.list_directories_and_files():
        child = f"{path}/{item['name']}" if path else item["name"]
        if item["is_directory"]:
            if directories:
                yield child + "/"
            yield from walk(share, child, directories)
        else:
            yield child


def attributes_of(text):
    names = [a.strip() for a in str(text).replace("|", ",").split(",") if a.strip() and a.strip() != "None"]
    return sorted(names)


def mark(share, path, attributes, creation, sddl):
    client = share.get_file_client(path)
    key = share.create_permission_for_share(sddl)
    flags = {"ReadOnly": "read_only", "Hidden": "hidden", "Archive": "archive", "System": "system"}
    attrs = NTFSAttributes(**{flags[a]: True for a in attributes.split("|") if a})
    kept = client.get_file_properties().content_settings
    client.set_http_headers(kept, file_attributes=attrs, file_creation_time=datetime.datetime.fromisoformat(creation),
                            file_last_write_time=datetime.datetime.fromisoformat(creation), permission_key=key)


def main():
    url, name = sys.argv[1].rstrip("/"), sys.argv[2]
    share = ShareClient(account_url=url, share_name=name, credential={"account_name": ACCOUNT, "account_key": KEY})
    if len(sys.argv) > 3 and sys.argv[3] == "--mark":
        mark(share, *sys.argv[4:8])
        return
    if len(sys.argv) > 3 and sys.argv[3] == "--paths":
        for path in sorted(walk(share, directories=True)):
            print(path)
        return
    for path in sorted(walk(share)):
        client = share.get_file_client(path)
        props = client.get_file_properties()
        data = client.download_file().readall()
        md5 = props.content_settings.content_md5
        print(json.dumps({
            "path": path,
            "size": props.size,
            "md5": hashlib.md5(data).hexdigest(),
            "content_md5": base64.b64encode(md5).decode() if md5 else None,
            "attributes": attributes_of(props.file_attributes),
            "creation": props.creation_time.isoformat(),
            "last_write": props.last_write_time.isoformat(),
            "permission": share.get_permission_for_share(props.permission_key),
        }, sort_keys=True))


if __name__ == "__main__":
    main()
