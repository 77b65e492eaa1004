#!/usr/bin/env python3
"""Listing cost of a split run: hash shards (each lists everything) against range-plan shards
(each lists its range), on Azurite. Not in CI: a measurement for the notes.

    python3 scripts/scale/range_listing.py --ferry target/release/ferry --blobs 100000 --shards 8

Uploads BLOBS empty blobs, makes a plan (`ferry shards plan`), then runs every shard of a dry-run
copy both ways, one after the other, and prints each shard's wall time and the totals.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from azurite_process import KEY, azurite  # noqa: E402


def ferry(args, binary, env):
    started = time.monotonic()
    out = subprocess.run([binary, *args], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"ferry {' '.join(args)} failed ({out.returncode}):\n{out.stderr[-2000:]}")
    return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--blobs", type=int, default=100_000)
    ap.add_argument("--shards", type=int, default=8)
    args = ap.parse_args()
    with azurite() as port:
        measure(args, port)


def measure(args, port: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "FERRY_"))}
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        env.update(AZURE_STORAGE_ACCOUNT="devstoreaccount1", AZURE_STORAGE_KEY=KEY,
                   FERRY_JOB_PLAN_LOCATION=str(work / "plans"), FERRY_LOG_LOCATION=str(work / "logs"))
        src = work / "src"
        for i in range(args.blobs):
            path = src / f"d{i % 100:02}" / f"f{i:07}.bin"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        url = f"http://127.0.0.1:{port}/devstoreaccount1/scale"
        upload = ferry(["copy", f"{src}/*", url, "--recursive"], args.ferry, env)
        plan = work / "plan.json"
        planning = ferry(["shards", "plan", url, "--shards", str(args.shards), "-o", str(plan)], args.ferry, env)
        print(f"{args.blobs} blobs uploaded in {upload:.1f} s; plan of {args.shards} ranges in {planning:.2f} s")
        totals = {}
        for method, flags in (("hash", []), ("range", ["--shard-plan", str(plan)])):
            times = []
            for k in range(args.shards):
                shard = ["--shard", f"{k}/{args.shards}", "--run-id", f"{method}-run"]
                times.append(ferry(["copy", url, str(work / "dest"), "--recursive", "--dry-run", *shard, *flags],
                                   args.ferry, env))
            totals[method] = sum(times)
            print(f"{method:5}: per shard " + " ".join(f"{t:.2f}" for t in times)
                  + f" s; sum {sum(times):.2f} s, slowest {max(times):.2f} s")
        print(f"range/hash listing time: {totals['range'] / totals['hash']:.2f}")


if __name__ == "__main__":
    main()
