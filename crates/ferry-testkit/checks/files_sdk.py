"""Drives the official Azure Files client (azure-storage-file-share, pinned in tools/requirements.txt)
over every operation the test kit's Files emulator serves, and checks what comes back: the SDK was
written against the real service, so the emulator must accept what it sends and answer what it reads.
Usage: files_sdk.py ACCOUNT_URL   (http://127.0.0.1:PORT/devstoreaccount1); prints `ok: …` per check."""

import datetime
import hashlib
import os
import sys
import uuid

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError, ClientAuthenticationError
from azure.storage.fileshare import (AccountSasPermissions, ContentSettings, NTFSAttributes, ResourceTypes,
                                     ShareClient, ShareFileClient, ShareServiceClient, ShareSasPermissions,
                                     generate_account_sas, generate_file_sas, generate_share_sas)

ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
SDDL = "O:BAG:SYD:(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)(A;;0x1200a9;;;WD)"


def ok(what):
    print(f"ok: {what}", flush=True)


def expect(error, call, what):
    try:
        call()
    except error:
        ok(what)
        return
    sys.exit(f"FAILED: {what}: no {error.__name__}")


def main():
    url = sys.argv[1].rstrip("/")
    cred = {"account_name": ACCOUNT, "account_key": KEY}
    service = ShareServiceClient(url, credential=cred)
    name = f"sdk-{uuid.uuid4().hex[:8]}"
    share = service.create_share(name, quota=10, metadata={"team": "ferry"})
    props = share.get_share_properties()
    assert props.quota == 10 and props.metadata == {"team": "ferry"}, props
    ok("create share with quota and metadata; get its properties")
    assert name in [s.name for s in service.list_shares(name_starts_with="sdk-")]
    ok("list shares")
    expect(ResourceExistsError, lambda: service.create_share(name), "a second create is ShareAlreadyExists")

    d = share.create_directory("dir1", metadata={"kind": "top"})
    sub = d.create_subdirectory("sub")
    dp = sub.get_directory_properties()
    assert "Directory" in str(dp.file_attributes), dp.file_attributes
    assert share.get_directory_client("dir1").get_directory_properties().metadata == {"kind": "top"}
    ok("create directories; their properties and metadata")
    expect(ResourceNotFoundError, lambda: share.get_directory_client("no/such").create_directory(),
           "a directory under a missing parent is ParentNotFound")

    data = os.urandom(10 * 1024 * 1024 + 123)
    f = d.get_file_client("big.bin")
    f.upload_file(data, content_settings=ContentSettings(content_type="application/x-test"), metadata={"m": "1"})
    assert f.download_file().readall() == data
    assert f.download_file(offset=4 * 1024 * 1024 - 7, length=100).readall() == data[4 * 1024 * 1024 - 7:4 * 1024 * 1024 + 93]
    ok("upload 10 MiB (create + 4 MiB ranges), download whole and by range")
    fp = f.get_file_properties()
    assert fp.size == len(data) and fp.content_settings.content_type == "application/x-test" and fp.metadata == {"m": "1"}
    f.set_http_headers(ContentSettings(content_type="text/plain", content_md5=bytearray(hashlib.md5(data).digest())))
    f.set_file_metadata({"m": "2", "other": "x"})
    fp = f.get_file_properties()
    assert fp.content_settings.content_type == "text/plain" and fp.metadata == {"m": "2", "other": "x"}
    assert bytes(fp.content_settings.content_md5) == hashlib.md5(data).digest()
    ok("file properties: size, content headers, metadata; set them")

    created = datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.timezone.utc)
    written = datetime.datetime(2025, 1, 2, 3, 4, 5, 654321, tzinfo=datetime.timezone.utc)
    key = share.create_permission_for_share(SDDL)
    assert share.get_permission_for_share(key) == SDDL
    ok("create a permission; get it by its key")
    smb = d.get_file_client("smb.txt")
    smb.create_file(5, file_attributes=NTFSAttributes(read_only=True, archive=True), file_creation_time=created,
                    file_last_write_time=written, permission_key=key)
    sp = smb.get_file_properties()
    assert "ReadOnly" in str(sp.file_attributes) and "Archive" in str(sp.file_attributes), sp.file_attributes
    assert sp.creation_time == created and sp.last_write_time == written, (sp.creation_time, sp.last_write_time)
    assert sp.permission_key == key
    smb2 = d.get_file_client("smb2.txt")
    smb2.create_file(0, file_permission=SDDL)
    assert share.get_permission_for_share(smb2.get_file_properties().permission_key) == SDDL
    ok("SMB attributes, creation and last-write times (100 ns), permission by key and by SDDL")

    for i in range(5):
        d.get_file_client(f"n{i}.txt").upload_file(b"x" * i)
    pages = d.list_directories_and_files(results_per_page=2, include=["timestamps", "ETag", "Attributes", "PermissionKey"]).by_page()
    names = []
    for page in pages:
        got = list(page)
        assert len(got) <= 2
        names += [e["name"] for e in got]
    assert names == sorted(["big.bin", "n0.txt", "n1.txt", "n2.txt", "n3.txt", "n4.txt", "smb.txt", "smb2.txt", "sub"]), names
    entries = {e["name"]: e for e in d.list_directories_and_files(include=["timestamps", "ETag", "Attributes", "PermissionKey"])}
    assert entries["sub"]["is_directory"] and not entries["n3.txt"]["is_directory"] and entries["n3.txt"]["size"] == 3
    # The SDK hands listed times over as the service's text (seven fractional digits).
    assert str(entries["smb.txt"]["last_write_time"]) == "2025-01-02T03:04:05.6543210Z", entries["smb.txt"]
    assert "ReadOnly" in str(entries["smb.txt"]["file_attributes"])
    assert [e["name"] for e in d.list_directories_and_files(name_starts_with="n")] == [f"n{i}.txt" for i in range(5)]
    ok("list directories and files: pages of 2, include options, prefix")

    r = d.get_file_client("ranges.bin")
    r.create_file(3 * 1024 * 1024)
    r.upload_range(b"a" * 1024, offset=0, length=1024)
    r.upload_range(b"b" * 1024, offset=2 * 1024 * 1024, length=1024)
    got = r.get_ranges()
    ranges = got[0] if isinstance(got, tuple) else got
    assert [(x["start"], x["end"]) for x in ranges] == [(0, 1023), (2 * 1024 * 1024, 2 * 1024 * 1024 + 1023)], ranges
    r.clear_range(offset=0, length=1024)
    assert r.download_file(offset=0, length=4).readall() == b"\0\0\0\0"
    ok("put ranges, get the range list, clear a range")

    sas = generate_file_sas(ACCOUNT, name, ["dir1", "big.bin"], KEY, permission="r",
                            expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    source_url = f"{url}/{name}/dir1/big.bin?{sas}"
    copy = d.get_file_client("copied.bin")
    copy.create_file(4 * 1024 * 1024)
    copy.upload_range_from_url(source_url, offset=0, length=4 * 1024 * 1024, source_offset=1024)
    assert copy.download_file().readall() == data[1024:1024 + 4 * 1024 * 1024]
    ok("put range from URL (a file SAS as the source)")

    share_sas = generate_share_sas(ACCOUNT, name, KEY, permission=ShareSasPermissions(read=True, list=True),
                                   expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    reader = ShareClient(url, name, credential=share_sas)
    assert reader.get_file_client("dir1/n2.txt").download_file().readall() == b"xx"
    assert "n2.txt" in [e["name"] for e in reader.get_directory_client("dir1").list_directories_and_files()]
    expect(HttpResponseError, lambda: reader.get_file_client("dir1/new.txt").upload_file(b"no"),
           "a read-only share SAS cannot write")
    account_sas = generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
                                       AccountSasPermissions(read=True, write=True, list=True, create=True),
                                       expiry=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1))
    ShareFileClient(url, name, "dir1/by-account-sas.txt", credential=account_sas).upload_file(b"yes")
    ok("share SAS (read, list; write refused) and account SAS")
    bad = ShareServiceClient(url, credential={"account_name": ACCOUNT, "account_key": KEY[:-4] + "AAA="})
    expect(ClientAuthenticationError, lambda: bad.get_share_client(name).get_share_properties(),
           "a wrong key is AuthenticationFailed")

    dotted = ShareClient(url, name, credential=cred, allow_trailing_dot=True)
    dotted.get_file_client("dir1/trailing.").upload_file(b"dot")
    assert dotted.get_file_client("dir1/trailing.").download_file().readall() == b"dot"
    ok("a name ending in `.` with x-ms-allow-trailing-dot")

    expect(ResourceNotFoundError, lambda: d.get_file_client("missing").get_file_properties(), "a missing file is 404")
    expect(HttpResponseError, lambda: share.get_directory_client("dir1").delete_directory(), "a non-empty directory is not deleted")
    f.delete_file()
    expect(ResourceNotFoundError, lambda: f.get_file_properties(), "a deleted file is gone")
    service.delete_share(name)
    expect(ResourceNotFoundError, lambda: share.get_share_properties(), "a deleted share is gone")
    ok("delete file, directory refusal, delete share")


if __name__ == "__main__":
    main()
