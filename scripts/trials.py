#!/usr/bin/env python3
"""Kill-and-resume trials: upload, download and sync jobs killed with SIGKILL at a random moment,
then resumed with `ferry jobs resume`, then checked by an independent reader (the Azure Python
SDK reads every blob back and compares bytes with the local file).

Run through `scripts/trials` (it installs the tools and builds Ferry). Prints one line per trial
and a summary line `trials passed: P/N`; exits non-zero unless every trial passed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FERRY = ROOT / "target/release/ferry"
AZURITE = ROOT / "tools/node/node_modules/.bin/azurite-blob"
ACCOUNT = "devstoreaccount1"
# Jobs are slowed to about 4 s (48 MiB at 100 Mb/s) so that the kill lands inside them.
CAP = ["--cap-mbps", "100"]
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def start_azurite(work: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(work / "azurite"),
         "--silent", "--loose", "--skipApiVersionCheck", "--disableTelemetry"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}/{ACCOUNT}"
    for _ in range(200):
        try:
            urllib.request.urlopen(f"{endpoint}?comp=list", timeout=1)
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.1)
            continue
        break
    return proc, endpoint


def md5_file(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def local_tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): md5_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def make_tree(root: Path, rng: random.Random) -> None:
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "big.bin").write_bytes(rng.randbytes(48 << 20))
    for i in range(300):
        folder = root / ("sub" if i % 3 else "")
        (folder / f"f{i:03}.dat").write_bytes(rng.randbytes(rng.randint(0, 20000)))


class Trials:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.rng = random.Random(args.seed)
        self.work = Path(tempfile.mkdtemp(prefix="ferry-trials-"))
        self.azurite, self.endpoint = start_azurite(self.work)
        from azure.storage.blob import BlobServiceClient
        self.service = BlobServiceClient(self.endpoint, credential={"account_name": ACCOUNT, "account_key": KEY})
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZCOPY_", "FERRY_"))}
        self.env.update(AZURE_STORAGE_ACCOUNT=ACCOUNT, AZURE_STORAGE_KEY=KEY, NO_COLOR="1",
                        FERRY_JOB_PLAN_LOCATION=str(self.work / "plans"), FERRY_LOG_LOCATION=str(self.work / "logs"))
        self.source = self.work / "source"
        make_tree(self.source, self.rng)

    def ferry(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run([str(FERRY), *args], env=self.env, capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL)

    def remote_tree(self, container: str) -> dict[str, str]:
        client = self.service.get_container_client(container)
        return {b.name: hashlib.md5(client.download_blob(b.name).readall()).hexdigest() for b in client.list_blobs()}

    def killed_then_resumed(self, argv: list[str]) -> tuple[bool, str]:
        """Starts ARGV, kills it at a random moment, resumes the job, and says how it went."""
        out_path = self.work / "out.txt"
        with open(out_path, "w") as out:
            proc = subprocess.Popen([str(FERRY), *argv], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
            delay = self.rng.uniform(0.05, self.args.max_delay)
            try:
                proc.wait(delay)
                finished = True
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                finished = False
        text = out_path.read_text(errors="replace")
        job = next((line.split()[1] for line in text.splitlines()
                    if line.startswith("Job ") and line.endswith(" has started")), None)
        moment = f"killed after {delay:.2f} s" if not finished else f"finished before the kill at {delay:.2f} s"
        if finished:
            return proc.returncode == 0, moment
        if job is None:
            # Killed before the job existed: running the command again is the resume.
            result = self.ferry(*argv)
            return result.returncode == 0, moment + ", before the job started; ran again"
        result = self.ferry("jobs", "resume", job)
        if result.returncode != 0:
            return False, moment + f"; resume exited {result.returncode}: {result.stderr.strip()[-300:]}"
        return True, moment + f"; job {job[:8]} resumed"

    def container(self, name: str) -> str:
        try:
            self.service.delete_container(name)
        except Exception:  # noqa: BLE001 - absent is fine
            pass
        self.service.create_container(name)
        return name

    def upload(self, n: int) -> tuple[bool, str]:
        name = self.container(f"trial{n}")
        ok, how = self.killed_then_resumed(["copy", f"{self.source}/*", f"{self.endpoint}/{name}", "--recursive",
                                            "--put-md5", "--output-level", "essential", *CAP])
        same = ok and self.remote_tree(name) == local_tree(self.source)
        return same, how + ("" if same or not ok else "; contents differ")

    def download(self, n: int) -> tuple[bool, str]:
        name = f"trial-src{n}"
        self.container(name)
        seeded = self.ferry("copy", f"{self.source}/*", f"{self.endpoint}/{name}", "--recursive", "--put-md5",
                            "--output-level", "quiet")
        if seeded.returncode != 0:
            return False, "seeding failed: " + seeded.stderr[-300:]
        target = self.work / f"down{n}"
        shutil.rmtree(target, ignore_errors=True)
        ok, how = self.killed_then_resumed(["copy", f"{self.endpoint}/{name}/*", str(target), "--recursive",
                                            "--output-level", "essential", *CAP])
        leftovers = [p.name for p in target.rglob(".ferry-*")] if target.exists() else []
        same = ok and target.exists() and local_tree(target) == local_tree(self.source) and not leftovers
        return same, how + ("" if same or not ok else f"; contents differ (temporary files: {leftovers[:3]})")

    def sync(self, n: int) -> tuple[bool, str]:
        name = self.container(f"trial-sync{n}")
        first = self.ferry("sync", str(self.source), f"{self.endpoint}/{name}", "--output-level", "quiet")
        if first.returncode != 0:
            return False, "first sync failed: " + first.stderr[-300:]
        # Change the tree: new content for some files, some files gone (extras to delete).
        changed = self.work / f"changed{n}"
        shutil.rmtree(changed, ignore_errors=True)
        shutil.copytree(self.source, changed)
        files = sorted(p for p in changed.rglob("*.dat"))
        time.sleep(1.1)  # times compare in whole seconds: changes must be newer than the first sync
        (changed / "big.bin").write_bytes(self.rng.randbytes(48 << 20))
        for p in self.rng.sample(files, 40):
            p.write_bytes(self.rng.randbytes(self.rng.randint(1, 30000)))
        for p in self.rng.sample(files, 25):
            if p.exists():
                p.unlink()
        # Sync the changed tree into the same container under the source's names.
        ok, how = self.killed_then_resumed(["sync", str(changed), f"{self.endpoint}/{name}",
                                            "--delete-destination", "true", "--output-level", "essential", *CAP])
        same = ok and self.remote_tree(name) == local_tree(changed)
        return same, how + ("" if same or not ok else "; contents differ")

    def run(self) -> int:
        kinds = [self.upload, self.download, self.sync]
        passed = 0
        try:
            for n in range(self.args.trials):
                kind = kinds[n % len(kinds)]
                started = time.monotonic()
                try:
                    ok, how = kind(n)
                except Exception as e:  # noqa: BLE001 - a trial that crashes fails
                    ok, how = False, f"crashed: {e!r}"
                passed += ok
                print(f"trial {n + 1:2}: {kind.__name__:8} {'PASS' if ok else 'FAIL'} "
                      f"({time.monotonic() - started:5.1f} s) {how}", flush=True)
        finally:
            self.azurite.terminate()
            if not self.args.keep:
                shutil.rmtree(self.work, ignore_errors=True)
        print(f"trials passed: {passed}/{self.args.trials}")
        return 0 if passed == self.args.trials else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--max-delay", type=float, default=3.5, help="latest moment of the kill, in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    print(f"seed {args.seed} (rerun with --seed {args.seed})", flush=True)
    sys.exit(Trials(args).run())


if __name__ == "__main__":
    main()
