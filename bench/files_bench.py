"""Azure Files workloads for bench.py: the test kit's Files emulator (target/release/files-emulator,
in memory) as the service, with the same interface as bench.py's Azurite `Emulator`, so the same
timing, checking and reporting apply. The emulator keeps every file in memory behind one lock: its
figures compare the clients with one another, not with the real service."""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES_EMULATOR = ROOT / "target/release/files-emulator"
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


class FilesService:
    """The Files emulator on a free loopback port; shares stand where bench.py has containers."""

    def __init__(self, work: Path, ticks: int):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.ticks = ticks
        self.proc = subprocess.Popen([str(FILES_EMULATOR), str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=open(work / "files-emulator.log", "w"))
        self.endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.endpoint}?comp=list", timeout=1)
            except urllib.error.HTTPError:
                break  # it answers (401 without credentials)
            except OSError:
                time.sleep(0.1)
                continue
            break
        from azure.storage.fileshare import ShareServiceClient
        self.service = ShareServiceClient(self.endpoint, credential={"account_name": ACCOUNT, "account_key": KEY})

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.ticks

    def wait_idle(self, limit: float = 60.0) -> None:
        quiet, deadline = 0, time.monotonic() + limit
        while time.monotonic() < deadline and quiet < 2:
            before = self.cpu_seconds()
            time.sleep(0.5)
            quiet = quiet + 1 if self.cpu_seconds() - before < 0.015 else 0

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

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
