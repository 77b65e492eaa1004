"""Azure Files workloads for bench.py: the test kit's Files emulator (target/release/files-emulator,
in memory) as the service, with the same interface as bench.py's Azurite `Emulator`, so the same
timing, checking and reporting apply. The emulator keeps every file in memory behind one lock: its
figures compare the clients with one another, not with the real service."""

from __future__ import annotations

import socket
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from service import LocalService

ROOT = Path(__file__).resolve().parent.parent
FILES_EMULATOR = ROOT / "target/release/files-emulator"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class FilesService(LocalService):
    """The Files emulator on a free loopback port; shares stand where bench.py has containers."""

    def __init__(self, work: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.proc = subprocess.Popen([str(FILES_EMULATOR), str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=open(work / "files-emulator.log", "w"))
        self.endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        self.wait_answering()
        from azure.storage.fileshare import ShareServiceClient
        self.service = ShareServiceClient(self.endpoint, credential={"account_name": ACCOUNT, "account_key": KEY})

    def container(self, name: str) -> None:
        self.drop(name)
        self.service.create_share(name, quota=5120)

    def drop(self, name: str) -> None:
        try:
            self.service.delete_share(name)
        except Exception:  # noqa: BLE001 - absent is fine
            pass

    def sas(self) -> str:
        from azure.storage.fileshare import AccountSasPermissions, ResourceTypes, generate_account_sas
        return generate_account_sas(ACCOUNT, KEY, ResourceTypes(service=True, container=True, object=True),
                                    AccountSasPermissions(read=True, write=True, delete=True, list=True, create=True),
                                    datetime.now(timezone.utc) + timedelta(hours=12))

    def url(self, share: str, path: str = "") -> str:
        base = f"{self.endpoint}/{share}" + (f"/{path}" if path else "")
        return f"{base}?{self.sas()}"

    def count(self, share: str) -> tuple[int, int]:
        files = size = 0
        pending = [""]
        client = self.service.get_share_client(share)
        while pending:
            path = pending.pop()
            for item in client.get_directory_client(path).list_directories_and_files():
                child = f"{path}/{item['name']}" if path else item["name"]
                if item["is_directory"]:
                    pending.append(child)
                else:
                    files += 1
                    size += item["size"]
        return files, size

    def rclone_section(self) -> str:
        return f"\n[files]\ntype = azurefiles\naccount = {ACCOUNT}\nkey = {KEY}\nendpoint = {self.endpoint}\n"
