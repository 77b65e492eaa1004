#!/usr/bin/env python3
"""Ferry against AzCopy and rclone, on the same data and the same Azurite, in one run.

Run through `bench/run` (it installs the pinned peers and builds Ferry). Each workload runs every tool
in turn, rotating the order each round (A B C, B C A, C A B), for --rounds rounds, against one Azurite in disk mode. Between runs the
destination is deleted and the emulator is left to go idle. Per run it records wall time, the
client's user+sys CPU and peak RSS (from wait4), the emulator's CPU (from /proc), and the bytes
and files moved (checked by listing the destination). It prints a table of medians, the ratios
Ferry/AzCopy and Ferry/rclone, and the raw-HTTP ceiling measured with curl, and writes
results.json and results.md into the work folder.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from service import LocalService

ROOT = Path(__file__).resolve().parent.parent
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

FERRY = ROOT / "target/release/ferry"  # copied into the work folder at start (see Bench)
AZCOPY = ROOT / "tools/node/node_modules/@azure-tools/azcopy-linux/dist/bin/azcopy_linux_amd64"
RCLONE = ROOT / "tools/venv/bin/rclone"
AZURITE = ROOT / "tools/node/node_modules/.bin/azurite-blob"
WEED = ROOT / "tools/venv/bin/weed"
S3_KEY, S3_SECRET = "ferrybenchkey", "ferrybenchsecret"
TOOLS = ["ferry", "azcopy", "rclone"]


def log(*parts: object) -> None:
    print(*parts, file=sys.stderr, flush=True)


# --- the emulator -------------------------------------------------------------------------


class Emulator(LocalService):
    """Azurite in disk mode on a free loopback port."""

    def __init__(self, work: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        data = work / "azurite"
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir(parents=True)
        env = dict(os.environ, NODE_OPTIONS="--max-old-space-size=8192")
        self.proc = subprocess.Popen(
            [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", str(data),
             "--silent", "--loose", "--skipApiVersionCheck", "--disableTelemetry"],
            stdout=subprocess.DEVNULL, stderr=open(work / "azurite.log", "w"), env=env)
        self.endpoint = f"http://127.0.0.1:{self.port}/{ACCOUNT}"
        self.wait_answering()
        from azure.storage.blob import BlobServiceClient
        self.service = BlobServiceClient(self.endpoint, credential={"account_name": ACCOUNT, "account_key": KEY})

    def container(self, name: str, fresh: bool = True):
        client = self.service.get_container_client(name)
        if fresh:
            self.drop(name)
            client.create_container()
        return client

    def drop(self, name: str) -> None:
        try:
            self.service.delete_container(name)
        except Exception:  # noqa: BLE001 - absent is fine
            pass

    def sas(self, container: str) -> str:
        from azure.storage.blob import ContainerSasPermissions, generate_container_sas
        return generate_container_sas(
            ACCOUNT, container, account_key=KEY,
            permission=ContainerSasPermissions(read=True, write=True, delete=True, list=True, add=True, create=True),
            expiry=datetime.now(timezone.utc) + timedelta(hours=12))

    def url(self, container: str, path: str = "") -> str:
        base = f"{self.endpoint}/{container}" + (f"/{path}" if path else "")
        return f"{base}?{self.sas(container)}"

    def count(self, container: str, prefix: str = "") -> tuple[int, int]:
        files = size = 0
        for blob in self.service.get_container_client(container).list_blobs(name_starts_with=prefix or None):
            files += 1
            size += blob.size
        return files, size


# --- data sets ----------------------------------------------------------------------------


def make_tree(root: Path, count: int, size: int) -> Path:
    """COUNT files of SIZE random bytes under ROOT, 100 to a folder; reused when present."""
    marker = root.with_name(root.name + ".complete")  # beside the tree, so no tool copies it
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    for i in range(count):
        folder = root / f"d{i // 100:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"f{i:06d}.bin").write_bytes(os.urandom(size))
    marker.touch()
    return root


def make_big(path: Path, size: int) -> Path:
    if path.exists() and path.stat().st_size == size:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n
    return path


def tree_bytes(root: Path) -> tuple[int, int]:
    files = size = 0
    for p in root.rglob("*"):
        if p.is_file():
            files += 1
            size += p.stat().st_size
    return files, size


# --- running a client ---------------------------------------------------------------------


@dataclass
class Run:
    tool: str
    wall: float
    cpu: float
    rss_mb: float
    emulator_cpu: float
    files: int
    bytes: int
    exit_code: int
    note: str = ""


@dataclass
class Workload:
    name: str
    files: int = 0
    bytes: int = 0
    runs: list[Run] = field(default_factory=list)
    ceiling: float | None = None  # seconds for the same data with raw HTTP (curl)
    notes: list[str] = field(default_factory=list)


class Seaweed:
    """SeaweedFS (`weed mini`) as an S3 endpoint on loopback ports, data in the work folder."""

    def __init__(self, work: Path):
        folder = work / "seaweed"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        config = folder / "s3.json"
        config.write_text(json.dumps({"identities": [{"name": "bench", "credentials": [
            {"accessKey": S3_KEY, "secretKey": S3_SECRET}], "actions": ["Admin", "Read", "List", "Write"]}]}))
        ports = [free_port() for _ in range(8)]
        self.port = ports[0]
        argv = [str(WEED), "mini", f"-dir={folder / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-master.telemetry=false", "-webdav=false", "-admin.ui=false", "-metricsPort=0",
                "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.port={ports[0]}", f"-s3.port.grpc={ports[1]}",
                f"-master.port={ports[2]}", f"-master.port.grpc={ports[3]}", f"-volume.port={ports[4]}",
                f"-volume.port.grpc={ports[5]}", f"-filer.port={ports[6]}", f"-filer.port.grpc={ports[7]}",
                f"-s3.config={config}"]
        self.log = open(folder / "weed.log", "w")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.endpoint, timeout=2)
                return
            except urllib.error.HTTPError:
                return  # answering (403 without a signature): ready
            except OSError:
                time.sleep(0.3)
        raise SystemExit("SeaweedFS did not start; see " + str(folder / "weed.log"))

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3
        return boto3.client("s3", endpoint_url=self.endpoint, aws_access_key_id=S3_KEY,
                            aws_secret_access_key=S3_SECRET, region_name="us-east-1")

    def count(self, bucket: str) -> tuple[int, int]:
        """Objects and bytes in BUCKET."""
        n = total = 0
        for page in self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for o in page.get("Contents", []):
                n, total = n + 1, total + o["Size"]
        return n, total

    def stop(self) -> None:
        """Stops the server: asked first, killed if it has not gone in 30 s (`weed mini` sometimes
        ignores SIGTERM while its filer flushes), so one slow stop does not end the whole run."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def rotated(tools: list[str], r: int) -> list[str]:
    """The tools in the order round R runs them: each round starts one further along, so every tool
    goes first once in as many rounds as there are tools. The first run after a workload's data is
    seeded finds the emulator cold (its first downloads of 1,000 files took twice as long as its
    later ones, whoever made them), and a fixed order gave that cost to the same tool every time;
    round one still starts with the first tool, so downloads begin with a warm-up (`Bench.warm_up`)."""
    if not tools:
        return tools
    k = r % len(tools)
    return tools[k:] + tools[:k]


def free_port() -> int:
    """A free loopback port below the ephemeral range, which outgoing connections take their local
    ports from: one of those could take a port from a bind to 0 before the server binds it."""
    try:
        ceiling = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        ceiling = 32768
    for port in random.sample(range(20000, max(ceiling, 21000)), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free loopback port below the ephemeral range")


class Clients:
    def __init__(self, emulator: Emulator, work: Path):
        self.emulator = emulator
        self.work = work
        self.state = work / "state"
        rclone_conf = work / "rclone.conf"
        rclone_conf.write_text(
            f"[azurite]\ntype = azureblob\naccount = {ACCOUNT}\nkey = {KEY}\nendpoint = {emulator.endpoint}\n")
        self.s3_endpoint = ""
        self.rclone_conf = rclone_conf
        # A stdin that blocks, as a terminal's does: AzCopy spins a core on a stdin at end-of-file.
        fifo = work / "stdin.fifo"
        if not fifo.exists():
            os.mkfifo(fifo)
        self.stdin = os.open(fifo, os.O_RDWR)

    def env(self, tool: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "AZCOPY_", "FERRY_", "RCLONE_"))}
        env["NO_COLOR"] = "1"
        env = {k: v for k, v in env.items() if not k.startswith("AWS_")}
        env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"] = S3_KEY, S3_SECRET
        if tool == "ferry":
            env["FERRY_LOG_LOCATION"] = str(self.state / "ferry-logs")
            env["FERRY_JOB_PLAN_LOCATION"] = str(self.state / "ferry-plans")
        elif tool == "azcopy":
            env["AZCOPY_LOG_LOCATION"] = str(self.state / "azcopy-logs")
            env["AZCOPY_JOB_PLAN_LOCATION"] = str(self.state / "azcopy-plans")
        else:
            env["RCLONE_CONFIG"] = str(self.rclone_conf)
        return env

    def run(self, tool: str, argv: list[str]) -> tuple[float, float, float, int, str]:
        """Runs one client; returns wall seconds, user+sys CPU, peak RSS in MB, exit code, output tail."""
        out, usage = self.work / "last-run.log", self.work / "last-run.time"
        # GNU time measures the client alone: a child forked from this Python would report this
        # process's own peak RSS (the high-water mark survives exec).
        timed = ["/usr/bin/time", "-o", str(usage), "-f", "%U %S %M", *argv]
        with open(out, "w") as sink:
            started = time.monotonic()
            code = subprocess.run(timed, stdin=self.stdin, stdout=sink, stderr=subprocess.STDOUT,
                                  env=self.env(tool)).returncode
            wall = time.monotonic() - started
        tail = out.read_text(errors="replace")[-2000:]
        user, system, rss_kb = usage.read_text().strip().splitlines()[-1].split()
        return wall, float(user) + float(system), int(rss_kb) / 1024, code, tail

    def cleanup_state(self) -> None:
        shutil.rmtree(self.state, ignore_errors=True)
        self.state.mkdir(parents=True)


def ferry_argv(*args: str) -> list[str]:
    return [str(FERRY), *args]


def azcopy_argv(*args: str) -> list[str]:
    return [str(AZCOPY), *args]


def rclone_argv(*args: str) -> list[str]:
    return [str(RCLONE), *args]


# --- the raw-HTTP ceiling ------------------------------------------------------------------


def curl_parallel(configs: list[str], work: Path, parallel: int = 32) -> float:
    """Runs one curl with many transfers, PARALLEL at a time; returns seconds."""
    conf = work / "curl.conf"
    conf.write_text("\n".join(configs) + "\n")
    started = time.monotonic()
    subprocess.run(["curl", "-sS", "--no-progress-meter", "--fail", "--parallel", "--parallel-max", str(parallel), "-K", str(conf)],
                   check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - started


def ceiling_upload(emulator: Emulator, files: list[Path], work: Path, container: str) -> float:
    emulator.container(container)
    sas = emulator.sas(container)
    lines = ['header = "x-ms-blob-type: BlockBlob"']
    for i, f in enumerate(files):
        lines += [f'upload-file = "{f}"', f'url = "{emulator.endpoint}/{container}/c{i}?{sas}"']
    emulator.wait_idle()
    seconds = curl_parallel(lines, work, 1 if len(files) == 1 else 32)
    return seconds


def ceiling_download(emulator: Emulator, container: str, work: Path) -> float:
    sas = emulator.sas(container)
    names = [b.name for b in emulator.service.get_container_client(container).list_blobs()]
    lines = []
    for name in names:
        lines += [f'url = "{emulator.endpoint}/{container}/{name}?{sas}"', 'output = "/dev/null"']
    emulator.wait_idle()
    return curl_parallel(lines, work, 1 if len(names) == 1 else 32)


# --- workloads -----------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.work = Path(args.work).resolve()
        self.work.mkdir(parents=True, exist_ok=True)
        self.data = self.work / "data"
        # Run a copy, so rebuilding Ferry during a benchmark cannot change the binary under test.
        global FERRY
        shutil.copy2(FERRY, self.work / "ferry")
        FERRY = self.work / "ferry"
        self.emulator = Emulator(self.work)
        self.clients = Clients(self.emulator, self.work)
        self.results: list[Workload] = []
        self.scale = args.scale

    def n(self, count: int) -> int:
        return max(1, int(count * self.scale))

    def fresh_target(self, label: str) -> Path:
        """A new, empty folder for one download run, never one emptied by an earlier run.

        This VM's root is ext4 with no journal, and such an ext4 passes over inodes freed in
        the last minutes when it makes a file (`recently_deleted` in its inode allocator, 2.5%
        of every tool's samples in `perf`): a run that followed the deletion of an earlier
        run's 10k files paid for that scan, more with each round (a local copy of 20k files,
        repeated with the output deleted in between: 2.0, 7.1, 8.6, 11.4 s). So each run's
        files stay until the whole benchmark ends (`forget_downloads`), written out (`sync`,
        untimed) so no run writes back the one before it."""
        target = self.work / "downloaded" / label
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        return target

    def forget_downloads(self) -> None:
        shutil.rmtree(self.work / "downloaded", ignore_errors=True)

    def argv(self, tool: str, *args: str) -> list[str]:
        """A command line for TOOL (for the workload modules)."""
        return {"ferry": ferry_argv, "azcopy": azcopy_argv, "rclone": rclone_argv}[tool](*args)

    def workload(self, name: str, files: int = 0, size: int = 0) -> Workload:
        return Workload(name, files, size)

    def timed(self, workload: Workload, tool: str, argv: list[str], check, service=None) -> None:
        service = service or self.emulator
        service.wait_idle()
        before = service.cpu_seconds()
        wall, cpu, rss, code, tail = self.clients.run(tool, argv)
        emulator_cpu = service.cpu_seconds() - before
        files, size = check()
        run = Run(tool, wall, cpu, rss, emulator_cpu, files, size, code)
        if code != 0 or files != workload.files:
            run.note = tail.strip().splitlines()[-1][:200] if tail.strip() else f"exit {code}"
        workload.runs.append(run)
        log(f"  {workload.name:28} {tool:7} {wall:7.2f} s  cpu {cpu:6.2f} s  rss {rss:7.1f} MB  "
            f"emulator {emulator_cpu:6.2f} s  {files} files {size} B  exit {code} {run.note}")

    def warm_up(self, workload: Workload, one_run) -> None:
        """One run of each tool, logged but not counted, before a download's rounds. The first
        download after the data is seeded pays for a cold system (page cache the VM has not
        touched lately, an emulator that has not served these blobs): 7.26 s and 7.41 CPU-s for
        the 1 GiB file against 4.47 and 3.83 s after it (2026-12-03), whichever tool made it,
        and round one always starts with the same tool."""
        warm = Workload(workload.name + " (warm-up)", workload.files, workload.bytes)
        for tool in self.tools():
            one_run(tool, -1, warm)

    def rounds(self, workload: Workload, one_run) -> None:
        for r in range(self.args.rounds):
            for tool in rotated(self.tools(), r):
                one_run(tool, r)

    def rounds_without_azcopy(self, one_run) -> None:
        """Rounds of the tools that can do what AzCopy cannot (S3 as the destination, any S3 endpoint)."""
        for r in range(self.args.rounds):
            for tool in rotated([t for t in self.tools() if t != "azcopy"], r):
                one_run(tool, r)

    def tools(self) -> list[str]:
        return [t for t in TOOLS if t in self.args.tools]

    # Uploads: local tree or file -> a fresh container.
    def upload(self, name: str, source: Path, is_tree: bool) -> Workload:
        files, size = tree_bytes(source) if is_tree else (1, source.stat().st_size)
        workload = Workload(name, files, size)

        def one(tool: str, r: int) -> None:
            container = f"up-{tool}-{r}"
            self.emulator.container(container)
            url = self.emulator.url(container)
            src = f"{source}/*" if is_tree else str(source)
            argv = {
                "ferry": ferry_argv("copy", src, url, "--recursive", "--put-md5"),
                "azcopy": azcopy_argv("copy", src, url, "--recursive", "--put-md5", "--from-to", "LocalBlob"),
                "rclone": rclone_argv("copy", str(source), f"azurite:{container}", "--transfers", "32",
                                      "--checkers", "32") if is_tree else
                rclone_argv("copy", str(source), f"azurite:{container}"),
            }[tool]
            self.timed(workload, tool, argv, lambda: self.emulator.count(container))
            self.emulator.drop(container)
            self.clients.cleanup_state()

        self.rounds(workload, one)
        blobs = [source] if not is_tree else sorted(p for p in source.rglob("*.bin"))
        workload.ceiling = ceiling_upload(self.emulator, blobs, self.work, "ceiling")
        self.emulator.drop("ceiling")
        log(f"  {name:28} curl    {workload.ceiling:7.2f} s")
        return workload

    # Downloads: a container seeded once -> a fresh local folder.
    def download(self, name: str, source: Path, is_tree: bool) -> Workload:
        container = "seed-" + name.replace(" ", "-").replace("×", "x").lower()[:50]
        self.emulator.container(container)
        src = f"{source}/*" if is_tree else str(source)
        subprocess.run(ferry_argv("copy", src, self.emulator.url(container), "--recursive", "--put-md5",
                                  "--output-level", "quiet"), check=True, env=self.clients.env("ferry"))
        files, size = self.emulator.count(container)
        workload = Workload(name, files, size)

        def one(tool: str, r: int, into: Workload = workload) -> None:
            target = self.fresh_target(f"{container}-{tool}-{r}")
            url = self.emulator.url(container)
            argv = {
                "ferry": ferry_argv("copy", self.emulator.url(container, "*"), str(target), "--recursive"),
                "azcopy": azcopy_argv("copy", self.emulator.url(container, "*"), str(target), "--recursive",
                                      "--from-to", "BlobLocal"),
                "rclone": rclone_argv("copy", f"azurite:{container}", str(target), "--transfers", "32",
                                      "--checkers", "32") if is_tree else
                rclone_argv("copy", f"azurite:{container}", str(target)),
            }[tool]
            del url
            self.timed(into, tool, argv, lambda: tree_bytes(target))
            os.sync()
            self.clients.cleanup_state()

        self.warm_up(workload, one)
        self.rounds(workload, one)
        workload.ceiling = ceiling_download(self.emulator, container, self.work)
        log(f"  {name:28} curl    {workload.ceiling:7.2f} s")
        self.emulator.drop(container)
        return workload

    def blob_to_blob(self, name: str, source: Path) -> Workload:
        src_container = "b2b-source"
        self.emulator.container(src_container)
        subprocess.run(ferry_argv("copy", f"{source}/*", self.emulator.url(src_container), "--recursive",
                                  "--output-level", "quiet"), check=True, env=self.clients.env("ferry"))
        files, size = self.emulator.count(src_container)
        workload = Workload(name, files, size)

        def one(tool: str, r: int) -> None:
            container = f"b2b-{tool}-{r}"
            self.emulator.container(container)
            argv = {
                "ferry": ferry_argv("copy", self.emulator.url(src_container, "*"), self.emulator.url(container),
                                    "--recursive"),
                "azcopy": azcopy_argv("copy", self.emulator.url(src_container, "*"), self.emulator.url(container),
                                      "--recursive", "--from-to", "BlobBlob"),
                "rclone": rclone_argv("copy", f"azurite:{src_container}", f"azurite:{container}", "--transfers",
                                      "32", "--checkers", "32"),
            }[tool]
            self.timed(workload, tool, argv, lambda: self.emulator.count(container))
            self.emulator.drop(container)
            self.clients.cleanup_state()

        self.rounds(workload, one)
        self.emulator.drop(src_container)
        workload.notes.append("AzCopy's Blob→Blob uses Put Blob From URL for small blobs, which Azurite 3.37 "
                              "does not implement (501), so its runs fail here.")
        return workload

    def s3_remote(self, seaweed: Seaweed) -> None:
        """Points rclone's `s3:` remote at `seaweed`."""
        conf = self.clients.rclone_conf
        base = conf.read_text().split("[s3]")[0]
        conf.write_text(base + f"[s3]\ntype = s3\nprovider = Other\naccess_key_id = {S3_KEY}\n"
                               f"secret_access_key = {S3_SECRET}\nendpoint = {seaweed.endpoint}\n"
                               "force_path_style = true\n")

    def local_to_s3(self, name: str, source: Path, is_tree: bool) -> Workload:
        """Local → S3 (SeaweedFS): PutObject for small files, a multipart upload for large ones, by
        Ferry and rclone; AzCopy has no S3 destination."""
        seaweed = Seaweed(self.work)
        try:
            self.s3_remote(seaweed)
            s3 = seaweed.client()
            files, size = tree_bytes(source) if is_tree else (1, source.stat().st_size)
            workload = Workload(name, files, size)
            workload.notes.append("S3 is SeaweedFS 4.48 on loopback, signatures checked. Ferry: 8 MiB parts, "
                                  "6 per object; rclone: its defaults (5 MiB chunks, 4 per object) with 32 "
                                  "transfers. AzCopy has no S3 destination.")

            def one(tool: str, r: int) -> None:
                bucket = f"up-{tool}-{r}"
                s3.create_bucket(Bucket=bucket)
                src = f"{source}/*" if is_tree else str(source)
                dest = f"{seaweed.endpoint}/{bucket}/" + ("" if is_tree else source.name)
                argv = {
                    "ferry": ferry_argv("copy", src, dest, "--recursive", "--from-to", "LocalS3"),
                    "rclone": rclone_argv("copy", str(source), f"s3:{bucket}", "--transfers", "32",
                                          "--checkers", "32"),
                }[tool]
                self.timed(workload, tool, argv, lambda: seaweed.count(bucket))
                self.clients.cleanup_state()

            self.rounds_without_azcopy(one)
            return workload
        finally:
            seaweed.stop()

    def s3_to_blob(self, name: str, source: Path) -> Workload:
        """S3 (SeaweedFS) → Blob: streamed through the client by Ferry and rclone alike (Azurite cannot
        fetch from another host, so no server-side copy here); AzCopy takes only *.amazonaws.com."""
        seaweed = Seaweed(self.work)
        try:
            self.s3_remote(seaweed)
            env = self.clients.env("rclone")
            subprocess.run(rclone_argv("mkdir", "s3:bench-source"), check=True, env=env)
            subprocess.run(rclone_argv("copy", str(source), "s3:bench-source", "--transfers", "32"), check=True,
                           env=env)
            files, size = tree_bytes(source)
            workload = Workload(name, files, size)
            workload.notes.append("S3 is SeaweedFS 4.48 on loopback, signatures checked; both tools stream "
                                  "(read from S3, upload blocks). AzCopy accepts only *.amazonaws.com over https, "
                                  "so it has no row.")

            def one(tool: str, r: int) -> None:
                container = f"s3-{tool}-{r}"
                self.emulator.container(container)
                argv = {
                    "ferry": ferry_argv("copy", f"{seaweed.endpoint}/bench-source/*", self.emulator.url(container),
                                        "--recursive", "--from-to", "S3Blob"),
                    "rclone": rclone_argv("copy", "s3:bench-source", f"azurite:{container}", "--transfers", "32",
                                          "--checkers", "32"),
                }[tool]
                self.timed(workload, tool, argv, lambda: self.emulator.count(container))
                self.emulator.drop(container)
                self.clients.cleanup_state()

            self.rounds_without_azcopy(one)
            return workload
        finally:
            seaweed.stop()

    def blob_to_s3(self, name: str, source: Path) -> Workload:
        """Blob (Azurite) → S3 (SeaweedFS), streamed through the client by Ferry and rclone; AzCopy
        has no S3 destination."""
        seaweed = Seaweed(self.work)
        try:
            self.s3_remote(seaweed)
            s3 = seaweed.client()
            src_container = "to-s3-source"
            self.emulator.container(src_container)
            subprocess.run(ferry_argv("copy", f"{source}/*", self.emulator.url(src_container), "--recursive",
                                      "--put-md5", "--output-level", "quiet"), check=True,
                           env=self.clients.env("ferry"))
            files, size = self.emulator.count(src_container)
            workload = Workload(name, files, size)
            workload.notes.append("Blob is Azurite, S3 is SeaweedFS 4.48 on loopback; both tools stream (read "
                                  "blocks, PutObject or multipart). AzCopy has no S3 destination.")

            def one(tool: str, r: int) -> None:
                bucket = f"from-blob-{tool}-{r}"
                s3.create_bucket(Bucket=bucket)
                argv = {
                    "ferry": ferry_argv("copy", self.emulator.url(src_container, "*"), f"{seaweed.endpoint}/{bucket}/",
                                        "--recursive", "--from-to", "BlobS3"),
                    # rclone carries the blob's access tier (Hot) over as the S3 storage class, which
                    # an S3 service refuses (InvalidStorageClass, 400); name the class it should use.
                    "rclone": rclone_argv("copy", f"azurite:{src_container}", f"s3:{bucket}", "--transfers", "32",
                                          "--checkers", "32", "--s3-storage-class", "STANDARD"),
                }[tool]
                self.timed(workload, tool, argv, lambda: seaweed.count(bucket))
                self.clients.cleanup_state()

            self.rounds_without_azcopy(one)
            self.emulator.drop(src_container)
            return workload
        finally:
            seaweed.stop()

    def sync_argv(self, tool: str, source: Path, container: str) -> list[str]:
        return {
            "ferry": ferry_argv("sync", str(source), self.emulator.url(container)),
            "azcopy": azcopy_argv("sync", str(source), self.emulator.url(container), "--from-to", "LocalBlob"),
            "rclone": rclone_argv("sync", str(source), f"azurite:{container}", "--transfers", "32", "--checkers",
                                  "32"),
        }[tool]

    def files_service(self):
        """The Files emulator, started on first use (its rclone remote added to the config)."""
        if getattr(self, "_files", None) is None:
            from files_bench import FilesService
            self._files = FilesService(self.work)
            with open(self.clients.rclone_conf, "a") as conf:
                conf.write(self._files.rclone_section())
        return self._files

    # Azure Files: a local tree or file -> a fresh share, and a seeded share -> a local folder.
    def to_files(self, name: str, source: Path, is_tree: bool) -> Workload:
        files_service = self.files_service()
        files, size = tree_bytes(source) if is_tree else (1, source.stat().st_size)
        workload = Workload(name, files, size)
        workload.notes.append("the test kit's Files emulator (in memory, one lock): the clients compared with "
                              "one another, not with the real service; emulator CPU is the Files emulator's; "
                              "rclone with --inplace")

        def one(tool: str, r: int) -> None:
            share = f"up-{tool}-{r}"
            files_service.container(share)
            src = f"{source}/*" if is_tree else str(source)
            argv = {
                "ferry": ferry_argv("copy", src, files_service.url(share), "--recursive", "--from-to",
                                    "LocalFileSMB"),
                "azcopy": azcopy_argv("copy", src, files_service.url(share), "--recursive", "--from-to",
                                      "LocalFileSMB"),
                # In place: rclone otherwise renames a partial file, and the emulator has no Rename File.
                "rclone": rclone_argv("copy", str(source), f"files,share_name={share}:", "--transfers", "32",
                                      "--checkers", "32", "--inplace"),
            }[tool]
            self.timed(workload, tool, argv, lambda: files_service.count(share), files_service)
            files_service.drop(share)
            self.clients.cleanup_state()

        self.rounds(workload, one)
        return workload

    def from_files(self, name: str, source: Path) -> Workload:
        files_service = self.files_service()
        share = "seed-files"
        files_service.container(share)
        subprocess.run(ferry_argv("copy", f"{source}/*", files_service.url(share), "--recursive", "--from-to",
                                  "LocalFileSMB", "--output-level", "quiet"), check=True,
                       env=self.clients.env("ferry"))
        files, size = files_service.count(share)
        workload = Workload(name, files, size)

        def one(tool: str, r: int) -> None:
            target = self.fresh_target(f"{share}-{tool}-{r}")
            argv = {
                "ferry": ferry_argv("copy", files_service.url(share, "*"), str(target), "--recursive",
                                    "--from-to", "FileSMBLocal"),
                "azcopy": azcopy_argv("copy", files_service.url(share, "*"), str(target), "--recursive",
                                      "--from-to", "FileSMBLocal"),
                "rclone": rclone_argv("copy", f"files,share_name={share}:", str(target), "--transfers", "32",
                                      "--checkers", "32"),
            }[tool]
            self.timed(workload, tool, argv, lambda: tree_bytes(target), files_service)
            os.sync()
            self.clients.cleanup_state()

        self.rounds(workload, one)
        files_service.drop(share)
        return workload

    def seed_sync(self, source: Path, tag: str) -> dict[str, str]:
        """Each tool's own container, filled by that tool's own first sync (so its second is a no-op)."""
        containers = {}
        for tool in self.tools():
            container = f"sync-{tag}-{tool}"
            self.emulator.container(container)
            _, _, _, code, tail = self.clients.run(tool, self.sync_argv(tool, source, container))
            if code != 0:
                log(f"  seeding {container} with {tool} failed: {tail[-500:]}")
            containers[tool] = container
        return containers

    def noop_sync(self, name: str, source: Path) -> Workload:
        files, _ = tree_bytes(source)
        containers = self.seed_sync(source, name.split()[-1])
        workload = Workload(name, 0, 0)
        workload.notes.append(f"{files} files, each tool against the container its own first sync filled")

        def one(tool: str, r: int) -> None:
            container = containers[tool]
            self.timed(workload, tool, self.sync_argv(tool, source, container), lambda: (0, 0))
            self.clients.cleanup_state()

        self.rounds(workload, one)
        for container in containers.values():
            self.emulator.drop(container)
        return workload

    def changed_sync(self, name: str, source: Path) -> Workload:
        files, _ = tree_bytes(source)
        containers = self.seed_sync(source, "changed")
        changed = sorted(p for p in source.rglob("*.bin"))[:: 100]
        size = sum(p.stat().st_size for p in changed) + len(changed)
        workload = Workload(name, len(changed), size)
        workload.notes.append(f"{len(changed)} of {files} files changed (a byte appended) before each round")
        state = {"round": -1}

        def one(tool: str, r: int) -> None:
            if state["round"] != r:
                time.sleep(1.1)  # modification times compare in whole seconds
                for p in changed:
                    with open(p, "ab") as f:
                        f.write(b"x")
                state["round"] = r
            container = containers[tool]
            self.timed(workload, tool, self.sync_argv(tool, source, container), lambda: (len(changed), size))
            self.clients.cleanup_state()

        self.rounds(workload, one)
        for container in containers.values():
            self.emulator.drop(container)
        return workload

    def run(self) -> None:
        gib = self.n(1 << 30)
        wanted = self.args.only
        plan = [
            ("upload 1 GiB file", lambda n: self.upload(n, make_big(self.data / "big.bin", gib), False)),
            ("download 1 GiB file", lambda n: self.download(n, make_big(self.data / "big.bin", gib), False)),
            ("upload 10k × 4 KiB", lambda n: self.upload(n, make_tree(self.data / f"small-{self.n(10000)}",
                                                                      self.n(10000), 4096), True)),
            ("download 10k × 4 KiB", lambda n: self.download(n, make_tree(self.data / f"small-{self.n(10000)}",
                                                                          self.n(10000), 4096), True)),
            ("upload 1k × 1 MiB", lambda n: self.upload(n, make_tree(self.data / f"medium-{self.n(1000)}",
                                                                     self.n(1000), 1 << 20), True)),
            ("download 1k × 1 MiB", lambda n: self.download(n, make_tree(self.data / f"medium-{self.n(1000)}",
                                                                         self.n(1000), 1 << 20), True)),
            ("blob→blob 10k × 4 KiB", lambda n: self.blob_to_blob(n, make_tree(self.data / f"small-{self.n(10000)}",
                                                                               self.n(10000), 4096))),
            ("s3→blob 1k × 1 MiB", lambda n: self.s3_to_blob(n, make_tree(self.data / f"medium-{self.n(1000)}",
                                                                          self.n(1000), 1 << 20))),
            ("blob→s3 1k × 1 MiB", lambda n: self.blob_to_s3(n, make_tree(self.data / f"medium-{self.n(1000)}",
                                                                          self.n(1000), 1 << 20))),
            ("local→s3 1k × 1 MiB", lambda n: self.local_to_s3(n, make_tree(self.data / f"medium-{self.n(1000)}",
                                                                            self.n(1000), 1 << 20), True)),
            ("local→s3 1 GiB file", lambda n: self.local_to_s3(n, make_big(self.data / "big.bin", gib), False)),
            ("no-op sync 10k", lambda n: self.noop_sync(n, make_tree(self.data / f"sync-{self.n(10000)}",
                                                                     self.n(10000), 256))),
            ("no-op sync 100k", lambda n: self.noop_sync(n, make_tree(self.data / f"sync-{self.n(100000)}",
                                                                      self.n(100000), 256))),
            ("sync 1% changed of 10k", lambda n: self.changed_sync(n, make_tree(self.data / "changing",
                                                                               self.n(10000), 4096))),
            ("local→files 1k × 1 MiB", lambda n: self.to_files(n, make_tree(self.data / f"medium-{self.n(1000)}",
                                                                            self.n(1000), 1 << 20), True)),
            ("files→local 1k × 1 MiB", lambda n: self.from_files(n, make_tree(self.data / f"medium-{self.n(1000)}",
                                                                              self.n(1000), 1 << 20))),
            ("local→files 256 MiB file", lambda n: self.to_files(n, make_big(self.data / "big256.bin",
                                                                             self.n(256 << 20)), False)),
        ]
        scale = None
        if self.args.mode == "scale":
            from scale_bench import Scale
            scale = Scale(self, self.args.counts, self.args.blobs)
            plan = scale.plan()
        for name, go in plan:
            if wanted and not any(w.lower() in name.lower() for w in wanted):
                continue
            if any(w.lower() in name.lower() for w in self.args.skip or []):
                continue
            log(f"== {name}")
            done = go(name)
            self.results.extend(done if isinstance(done, list) else [done])
            self.save()
        if scale is not None:
            scale.cleanup()
        self.forget_downloads()

    def save(self) -> None:
        (self.work / "results.json").write_text(json.dumps([asdict(w) for w in self.results], indent=1))
        (self.work / "results.md").write_text(render(self.results, self.args))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def good_runs(w: Workload, tool: str) -> list[Run]:
    """A tool's runs of `w` that exited 0 and moved the expected number of files."""
    return [r for r in w.runs if r.tool == tool and r.exit_code == 0 and (w.files == 0 or r.files == w.files)]


def render(results: list[Workload], args: argparse.Namespace) -> str:
    out = [f"Rounds: {args.rounds}; medians per tool; ratios are Ferry ÷ peer (below 1 means Ferry is faster or "
           "leaner). CPU and RSS are the client's; emulator CPU is Azurite's during the run.", "",
           "| workload | tool | wall s | client CPU s | peak RSS MB | emulator CPU s | ok runs |",
           "|---|---|---|---|---|---|---|"]
    ratios = ["", "| workload | wall F/AzCopy | wall F/rclone | CPU F/AzCopy | CPU F/rclone | RSS F/AzCopy | "
              "RSS F/rclone | curl ceiling s | Ferry ÷ ceiling |", "|---|---|---|---|---|---|---|---|---|"]
    for w in results:
        med = {}
        for tool in TOOLS:
            runs = [r for r in w.runs if r.tool == tool]
            if not runs:
                continue
            ok = good_runs(w, tool)
            use = ok or runs
            med[tool] = (median([r.wall for r in use]), median([r.cpu for r in use]),
                         median([r.rss_mb for r in use]), median([r.emulator_cpu for r in use]), len(ok))
            m = med[tool]
            out.append(f"| {w.name} | {tool} | {m[0]:.2f} | {m[1]:.2f} | {m[2]:.0f} | {m[3]:.2f} | "
                       f"{m[4]}/{len(runs)} |")

        def ratio(i: int, peer: str) -> str:
            if "ferry" not in med or peer not in med or med[peer][4] == 0:
                return "n/a"
            return f"{med['ferry'][i] / med[peer][i]:.2f}" if med[peer][i] else "n/a"

        ceiling = f"{w.ceiling:.2f}" if w.ceiling else "—"
        vs = f"{med['ferry'][0] / w.ceiling:.2f}" if w.ceiling and "ferry" in med else "—"
        ratios.append(f"| {w.name} | {ratio(0, 'azcopy')} | {ratio(0, 'rclone')} | {ratio(1, 'azcopy')} | "
                      f"{ratio(1, 'rclone')} | {ratio(2, 'azcopy')} | {ratio(2, 'rclone')} | {ceiling} | {vs} |")
    notes = [f"- {w.name}: {n}" for w in results for n in w.notes]
    failures = [f"- {w.name}, {r.tool}: {r.note}" for w in results for r in w.runs if r.note]
    text = "\n".join(out + ratios + [""] + readme_table(results))
    if notes:
        text += "\n\nNotes:\n" + "\n".join(notes)
    if failures:
        text += "\n\nRuns that failed or moved the wrong count:\n" + "\n".join(sorted(set(failures)))
    return text + "\n"


def readme_table(results: list[Workload]) -> list[str]:
    """The README's table: a row per workload, each tool's median wall, CPU and RSS side by side,
    the fastest wall in bold; "fails" where a tool had no good run, "—" where it was not run."""
    names = {"ferry": "Ferry", "azcopy": "AzCopy", "rclone": "rclone"}
    head = [f"{names[t]} s" for t in TOOLS] + [f"{names[t]} CPU s" for t in TOOLS] + \
        [f"{names[t]} RSS MB" for t in TOOLS] + ["curl ceiling s"]
    lines = ["| workload | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for w in results:
        med = {}
        for tool in TOOLS:
            ok = good_runs(w, tool)
            if ok:
                med[tool] = (median([r.wall for r in ok]), median([r.cpu for r in ok]), median([r.rss_mb for r in ok]))
        tried = {r.tool for r in w.runs}
        best = min((m[0] for m in med.values()), default=None)

        def cell(tool: str, i: int, form: str) -> str:
            if tool not in med:
                return "fails" if tool in tried and i == 0 else "—"
            text = form.format(med[tool][i])
            return f"**{text}**" if i == 0 and len(med) > 1 and med[tool][0] == best else text

        cells = [cell(t, 0, "{:.2f}") for t in TOOLS] + [cell(t, 1, "{:.2f}") for t in TOOLS] + \
            [cell(t, 2, "{:.0f}") for t in TOOLS] + [f"{w.ceiling:.2f}" if w.ceiling else "—"]
        lines.append(f"| {w.name} | " + " | ".join(cells) + " |")
    return lines


def rerender(path: Path, args: argparse.Namespace) -> None:
    """Prints the tables of a saved results.json again (e.g. one written by an older bench.py)."""
    results = []
    for w in json.loads(path.read_text()):
        runs = [Run(**r) for r in w.pop("runs")]
        results.append(Workload(**w, runs=runs))
    print(render(results, args), end="")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", default=os.environ.get("FERRY_BENCH_DIR", "/tmp/ferry-bench"),
                        help="folder for data sets, the emulator's files and results (outside the repo)")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink every data set (0.1 for a quick look)")
    parser.add_argument("--only", nargs="*", help="run only workloads whose name contains one of these")
    parser.add_argument("--skip", nargs="*", help="leave out workloads whose name contains one of these "
                        "(--skip 100k: its three seeding syncs of 100k files take over an hour here)")
    parser.add_argument("--tools", nargs="*", default=TOOLS)
    parser.add_argument("--mode", choices=["standard", "scale"], default="standard",
                        help="scale: a million objects (bench/scale_bench.py; about an hour, 12 GB of disk)")
    parser.add_argument("--counts", nargs="*", type=int, default=[10_000, 100_000, 1_000_000],
                        help="scale mode: local file counts")
    parser.add_argument("--blobs", type=int, default=200_000, help="scale mode: blobs in the listed container")
    parser.add_argument("--rclone-seed", action="store_true",
                        help="scale mode: rclone's no-op sync row against a container its own sync filled (its "
                             "metadata times) instead of Ferry's with --update --use-server-modtime")
    parser.add_argument("--render", type=Path, metavar="RESULTS_JSON",
                        help="print the tables of a saved results.json and run nothing")
    args = parser.parse_args()
    if args.render:
        return rerender(args.render, args)
    bench = Bench(args)
    try:
        bench.run()
    finally:
        bench.emulator.stop()
        if getattr(bench, "_files", None) is not None:
            bench._files.stop()
    print(render(bench.results, args))
    log(f"results: {bench.work / 'results.md'} and results.json")


if __name__ == "__main__":
    main()
