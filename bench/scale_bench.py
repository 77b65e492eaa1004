"""Scale workloads for bench.py (`bench/run --mode scale`, not in CI): where Ferry's users live, a
million objects on one machine. Ferry's per-item cost without an emulator's limits (local → local
copy and no-op sync of 10k, 100k and 1M small files, beside rclone; AzCopy has no local → local),
peak memory at each count (it should stay flat), the journal's size and the time and memory of
`jobs show`, `jobs show --with-status All` and `jobs resume` (of a copy killed half-way) on the
largest journal, and listing and no-op sync against a container of 200k blobs (Azurite), beside
AzCopy and rclone.

The local trees live in memory (FERRY_SCALE_DIR, default /dev/shm/ferry-scale; a million 256-byte
files take about 4 GB there, twice that while copied, removed at the end): on this project's
machine a disk's inode allocation after millions of creates and deletes costs more than the tools
(`cp -r` of 10k files: 5 s of kernel time on ext4, 0.25 s in memory), and the point here is each
tool's own cost per item."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


class NoService:
    """Stands where bench.py expects an emulator, for workloads that have none."""

    def wait_idle(self) -> None:
        pass

    def cpu_seconds(self) -> float:
        return 0.0


def small_tree(root: Path, count: int, size: int = 256) -> Path:
    """COUNT files of SIZE bytes under ROOT, 1,000 to a folder; reused when complete."""
    marker = root.with_name(root.name + ".complete")
    if marker.exists():
        return root
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    body = os.urandom(size)
    for i in range(count):
        if i % 1000 == 0:
            folder = root / f"d{i // 1000:04d}"
            folder.mkdir()
        fd = os.open(folder / f"f{i:07d}.bin", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, body[: size - 8] + i.to_bytes(8, "little"))  # every file's bytes differ
        os.close(fd)
    marker.touch()
    return root


def count_tree(root: Path) -> tuple[int, int]:
    """Files and bytes under ROOT (scandir: a million entries in seconds)."""
    files = size = 0
    stack = [str(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    files += 1
                    size += entry.stat(follow_symlinks=False).st_size
    return files, size


def folder_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0


class Scale:
    """The scale workloads, run by bench.py's `Bench` (its timing, rounds and table)."""

    def __init__(self, bench, counts: list[int], blobs: int):
        self.bench = bench
        self.fast = Path(os.environ.get("FERRY_SCALE_DIR", "/dev/shm/ferry-scale"))
        self.fast.mkdir(parents=True, exist_ok=True)
        self.counts = counts
        self.blobs = blobs
        self.none = NoService()
        self.seeded: set[str] = set()

    def plan(self) -> list[tuple[str, object]]:
        plan = []
        for count in self.counts:
            label = human(count)
            plan.append((f"local→local copy {label}", lambda n, c=count: self.local_copy(n, c)))
            plan.append((f"local→local no-op sync {label}", lambda n, c=count: self.local_sync(n, c)))
        largest = max(self.counts)
        plan.append((f"journal of {human(largest)}",
                     lambda n: self.journal(n, largest)))
        plan.append((f"list {human(self.blobs)} blobs", lambda n: self.blob_list(n, self.blobs)))
        plan.append((f"no-op sync {human(self.blobs)} blobs", lambda n: self.blob_sync(n, self.blobs)))
        return plan

    def tree(self, count: int) -> Path:
        return small_tree(self.fast / f"tree-{count}", count)

    def cleanup(self) -> None:
        shutil.rmtree(self.fast, ignore_errors=True)

    def local_copy(self, name: str, count: int):
        source = self.tree(count)
        workload = self.bench.workload(name, count, count * 256)
        target = self.fast / "target"
        plans = self.bench.clients.state / "ferry-plans"
        journal = []

        def one(tool: str, r: int) -> None:
            if tool == "azcopy":
                return  # AzCopy has no local → local
            shutil.rmtree(target, ignore_errors=True)
            argv = {
                "ferry": self.bench.argv("ferry", "copy", f"{source}/*", str(target), "--recursive"),
                "rclone": self.bench.argv("rclone", "copy", str(source), str(target), "--transfers", "32", "--checkers", "32"),
            }[tool]
            self.bench.timed(workload, tool, argv, lambda: count_tree(target), self.none)
            if tool == "ferry":
                journal.append(folder_bytes(plans))
            self.bench.clients.cleanup_state()

        self.bench.rounds(workload, one)
        shutil.rmtree(target, ignore_errors=True)
        if journal:
            workload.notes.append(f"Ferry's journal after the copy: {max(journal) / 1e6:.1f} MB "
                                  f"({max(journal) / count:.0f} bytes per item)")
        workload.notes.append("256-byte files, 1,000 to a folder; rclone with --transfers 32 --checkers 32 "
                              "(it also hashes both sides of a local copy); AzCopy has no local → local")
        return workload

    def local_sync(self, name: str, count: int):
        source = self.tree(count)
        workload = self.bench.workload(name, 0, 0)
        target = self.fast / "sync-target"
        # One copy made once (with cp, keeping times), the same for both tools: nothing to do.
        if not (target.with_name(target.name + f".{count}")).exists():
            shutil.rmtree(target, ignore_errors=True)
            subprocess.run(["cp", "-a", str(source), str(target)], check=True)
            target.with_name(target.name + f".{count}").touch()

        def one(tool: str, r: int) -> None:
            if tool == "azcopy":
                return
            argv = {
                "ferry": self.bench.argv("ferry", "sync", str(source), str(target)),
                "rclone": self.bench.argv("rclone", "sync", str(source), str(target), "--checkers", "32"),
            }[tool]
            self.bench.timed(workload, tool, argv, lambda: (0, 0), self.none)
            self.bench.clients.cleanup_state()

        self.bench.rounds(workload, one)
        shutil.rmtree(target, ignore_errors=True)
        target.with_name(target.name + f".{count}").unlink(missing_ok=True)
        workload.notes.append(f"{count} files already in place (cp -a), so nothing is copied")
        return workload

    def journal(self, name: str, count: int):
        """A copy of COUNT files killed with SIGKILL about half-way, then `jobs show`, `jobs show
        --with-status All` and `jobs resume` on its journal (Ferry only: the tools differ too much)."""
        source = self.tree(count)
        target = self.fast / "resume"
        shutil.rmtree(target, ignore_errors=True)
        clients = self.bench.clients
        clients.cleanup_state()
        workload = self.bench.workload(name, 0, 0)
        log_path = self.bench.work / "scale-killed.log"
        with open(log_path, "w") as out:
            proc = subprocess.Popen(self.bench.argv("ferry", "copy", f"{source}/*", str(target), "--recursive"),
                                    stdout=out, stderr=subprocess.STDOUT, env=clients.env("ferry"),
                                    stdin=clients.stdin)
            deadline = time.monotonic() + 3600
            while time.monotonic() < deadline and proc.poll() is None:
                time.sleep(0.5)
                if target.exists() and count_tree(target)[0] >= count // 2:
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        found = re.search(r"Job (\S+) has started", log_path.read_text(errors="replace"))
        if not found:
            workload.notes.append("the killed copy printed no job ID; nothing measured")
            return workload
        job = found.group(1)
        done_before = count_tree(target)[0]
        plans = clients.state / "ferry-plans"
        workload.notes.append(f"killed with {done_before} of {count} files copied; journal "
                              f"{folder_bytes(plans) / 1e6:.1f} MB")
        steps = [
            ("jobs show", self.bench.argv("ferry", "jobs", "show", job), lambda: (0, 0)),
            ("jobs show --with-status All", self.bench.argv("ferry", "jobs", "show", job, "--with-status", "All"),
             lambda: (0, 0)),
            ("jobs resume", self.bench.argv("ferry", "jobs", "resume", job), lambda: count_tree(target)),
            ("jobs show --with-status All, all items done",
             self.bench.argv("ferry", "jobs", "show", job, "--with-status", "All"), lambda: (0, 0)),
        ]
        results = []
        for label, argv, check in steps:
            step = self.bench.workload(f"{name}: {label}", count if label == "jobs resume" else 0, 0)
            step.notes = list(workload.notes)
            self.bench.timed(step, "ferry", argv, check, self.none)
            if "--with-status" in argv:
                lines = sum(1 for _ in open(self.bench.work / "last-run.log", errors="replace"))
                step.notes.append(f"{lines} lines printed")
            results.append(step)
        shutil.rmtree(target, ignore_errors=True)
        clients.cleanup_state()
        return results

    def seeded_container(self, count: int, tool: str) -> str:
        """A container of COUNT tiny blobs, filled once by TOOL's own sync (so its next is a no-op)."""
        container = f"scale-{count}-{tool}"
        if container in self.seeded:  # this run's emulator already holds it (each run starts a fresh one)
            return container
        self.bench.emulator.container(container)
        source = small_tree(self.bench.data / f"scale-blobs-{count}", count, 16)
        _, _, _, code, tail = self.bench.clients.run(tool, self.bench.sync_argv(tool, source, container))
        if code != 0:
            raise SystemExit(f"seeding {container} with {tool} failed: {tail[-500:]}")
        self.seeded.add(container)
        return container

    def blob_list(self, name: str, count: int):
        container = self.seeded_container(count, "ferry")
        workload = self.bench.workload(name, count, count * 16)
        emulator = self.bench.emulator
        listing = self.bench.work / "listing.txt"

        def lines() -> tuple[int, int]:
            text = listing.read_text(errors="replace").splitlines()
            wanted = [line for line in text if ".bin" in line]
            return len(wanted), len(wanted) * 16

        def one(tool: str, r: int) -> None:
            url = emulator.url(container)
            inner = {
                "ferry": self.bench.argv("ferry", "list", url),
                "azcopy": self.bench.argv("azcopy", "list", url, "--location", "Blob"),
                "rclone": self.bench.argv("rclone", "lsf", "-R", "--files-only", f"azurite:{container}"),
            }[tool]
            argv = ["sh", "-c", '"$@" > "$0"', str(listing), *inner]
            self.bench.timed(workload, tool, argv, lines)

        self.bench.rounds(workload, one)
        workload.notes.append("each tool's listing written to a file; its lines naming a blob counted")
        return workload

    def blob_sync(self, name: str, count: int):
        source = small_tree(self.bench.data / f"scale-blobs-{count}", count, 16)
        # AzCopy's sync copies only what is newer at the source, so Ferry's upload (made later than the
        # files) is a no-op for it too; so is rclone's with --update --use-server-modtime (the blob's own
        # Last-Modified against the file's, AzCopy's rule). rclone's default compares the modification
        # time it keeps in each blob's metadata, which needs a container its own sync filled
        # (--rclone-seed; 30 minutes or more for 200k here, as Azurite's inserts slow with its size).
        own = self.bench.args.rclone_seed
        seeds = {"ferry": "ferry", "azcopy": "ferry", "rclone": "rclone" if own else "ferry"}
        containers = {tool: self.seeded_container(count, seeds[tool]) for tool in self.bench.tools()}
        workload = self.bench.workload(name, 0, 0)
        rclone_rule = ("against its own container (its modification-time metadata)" if own else
                       "with --update --use-server-modtime (the blobs' Last-Modified, as AzCopy)")
        workload.notes.append(f"{count} files of 16 bytes; Ferry and AzCopy against the container Ferry's sync "
                              f"filled, rclone {rclone_rule}")

        def one(tool: str, r: int) -> None:
            argv = self.bench.sync_argv(tool, source, containers[tool])
            if tool == "rclone" and not own:
                argv += ["--update", "--use-server-modtime"]
            self.bench.timed(workload, tool, argv, lambda: (0, 0))
            self.bench.clients.cleanup_state()

        self.bench.rounds(workload, one)
        return workload


def human(count: int) -> str:
    if count >= 1_000_000 and count % 1_000_000 == 0:
        return f"{count // 1_000_000}M"
    if count >= 1000 and count % 1000 == 0:
        return f"{count // 1000}k"
    return str(count)
