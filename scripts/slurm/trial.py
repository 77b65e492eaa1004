"""The body of scripts/slurm/trial (see there): a sharded Ferry copy as a Slurm array, one worker
killed and requeued, and the checks. Needs SLURM_CONF set by scripts/slurm/up (the wrapper does)."""

import argparse
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
from azurite_process import KEY, azurite  # noqa: E402
SHARDS = 4
KILLED = 2
RUN = "trial"


def sh(*argv, check=True, **kw) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and out.returncode != 0:
        sys.exit(f"{' '.join(map(str, argv))}: exit {out.returncode}\n{out.stdout}{out.stderr}")
    return out.stdout


def make_source(root: Path, files: int) -> dict:
    """Small files with names that test a partition, and a few large ones (several blocks each)."""
    names = {}
    odd = ["Caf\u00e9.txt", "cafe\u0301.txt", "\u0130stanbul.txt", "A.txt", "a.txt", "sp ace+plus%.txt"]
    for i in range(files):
        names[f"d{i % 17}/f-{i:05}.bin"] = os.urandom(4096)
    for name in odd:
        names[name] = name.encode() * 10
    for i in range(SHARDS * 2):
        names[f"big/b-{i}.bin"] = os.urandom(6 * 1024 * 1024)
    for name, data in names.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return {n: hashlib.md5(d).hexdigest() for n, d in names.items()}


def wait_array(job: str, limit: float = 600) -> None:
    deadline = time.time() + limit
    while sh("squeue", "-h", "-j", job, check=False).strip():
        if time.time() > deadline:
            sys.exit("the array did not finish")
        time.sleep(0.5)


def task_field(job: str, k: int, field: str) -> str:
    text = sh("scontrol", "show", "job", f"{job}_{k}", check=False)
    for word in text.split():
        if word.startswith(field + "="):
            return word.split("=", 1)[1]
    return ""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--ferry", required=True)
    ap.add_argument("--files", type=int, default=2000)
    args = ap.parse_args()
    work = args.work
    os.environ["SLURM_CONF"] = str(work / "slurm" / "slurm.conf")

    with azurite(check_versions=False) as port:
        run_trial(args, work, port)


def run_trial(args, work: Path, port: int) -> None:
    src, evidence, state = work / "src", work / "evidence", work / "state"
    for d in (src, evidence, state):
        d.mkdir(parents=True, exist_ok=True)
    expected = make_source(src, args.files)
    total_bytes = sum((src / n).stat().st_size for n in expected)
    account = f"http://127.0.0.1:{port}/devstoreaccount1"
    dest = f"{account}/dst"
    env = dict(os.environ, AZURE_STORAGE_ACCOUNT="devstoreaccount1", AZURE_STORAGE_KEY=KEY,
               FERRY_JOB_PLAN_LOCATION=str(state / "plans"), FERRY_LOG_LOCATION=str(state / "logs"))
    worker = work / "worker.sh"
    # The worker is Ferry itself (exec), so the PID it records is the one to kill.
    worker.write_text(
        "#!/usr/bin/env bash\n"
        f"echo $$ > {evidence}/pid-$SLURM_ARRAY_TASK_ID\n"
        f"exec {args.ferry} copy '{src}/*' '{dest}' --recursive --shards {SHARDS} --run-id {RUN} "
        f"--report-dir {evidence} --cap-mbps 16 --block-size-mb 1\n")
    worker.chmod(0o755)
    started = time.time()
    job = sh("sbatch", "--parsable", f"--array=0-{SHARDS - 1}", "--open-mode=append", "--export=ALL",
             f"--output={evidence}/task-%a.out", str(worker), env=env).strip()
    print(f"array job {job}: {SHARDS} shards of {len(expected)} files ({total_bytes} bytes)")

    # Kill shard KILLED's Ferry once its job has copied part of its share.
    pid_file, journal_dir = evidence / f"pid-{KILLED}", state / "plans"
    deadline = time.time() + 120
    while True:
        if time.time() > deadline:
            sys.exit("shard 2 did not start copying")
        done = 0
        if pid_file.exists():
            for db in journal_dir.glob("*.db"):
                try:
                    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
                        done = max(done, c.execute("SELECT count(*) FROM item WHERE status = 'Success'").fetchone()[0])
                except sqlite3.Error:
                    pass
        if done >= 100:
            break
        time.sleep(0.2)
    pid = int(pid_file.read_text())
    os.kill(pid, 9)
    print(f"killed shard {KILLED}'s ferry (pid {pid}) after {time.time() - started:.1f} s")
    wait_array(job)
    first = time.time() - started
    states = {k: task_field(job, k, "JobState") for k in range(SHARDS)}
    print(f"first pass {first:.1f} s: {states}")
    assert states[KILLED] == "FAILED", states

    status = subprocess.run([args.ferry, "shards", "status", "--run-id", RUN, "--report-dir", str(evidence)],
                            capture_output=True, text=True, env=env)
    print(status.stdout.strip())
    assert status.returncode == 1 and f"Shard {KILLED}/{SHARDS}: running" in status.stdout, status.stdout

    # Requeue the failed index, as the runner of an array does; Slurm runs the same command.
    sh("scontrol", "requeue", f"{job}_{KILLED}")
    sh("scontrol", "update", f"JobId={job}_{KILLED}", "StartTime=now")
    requeued = time.time()
    wait_array(job)
    print(f"requeued shard {KILLED}: {time.time() - requeued:.1f} s, JobState={task_field(job, KILLED, 'JobState')} "
          f"Restarts={task_field(job, KILLED, 'Restarts')}")

    status = subprocess.run([args.ferry, "shards", "status", "--run-id", RUN, "--report-dir", str(evidence)],
                            capture_output=True, text=True, env=env)
    print(status.stdout.strip())
    assert status.returncode == 0, status.stdout + status.stderr

    # Membership: each shard's journal holds exactly rclone's --hash-filter K/N of the source.
    rclone = REPO / "tools/venv/bin/rclone"
    union, sizes = set(), []
    for k in range(SHARDS):
        manifest = json.loads((evidence / RUN / f"shard-{k:05}-of-{SHARDS:05}.manifest.json").read_text())
        with sqlite3.connect(f"file:{journal_dir / (manifest['job_id'] + '.db')}?mode=ro", uri=True) as c:
            names = {r[0] for r in c.execute("SELECT source FROM item WHERE status = 'Success'")}
        oracle = set(sh(str(rclone), "lsf", "-R", "--files-only", "--hash-filter", f"{k}/{SHARDS}", str(src),
                        env=dict(os.environ, RCLONE_CONFIG="/dev/null")).splitlines())
        assert names == oracle, f"shard {k}: {len(names ^ oracle)} names differ from rclone's"
        assert not names & union, f"shard {k} shares names with another"
        union |= names
        sizes.append(len(names))
    assert union == set(expected), f"{len(set(expected) - union)} names in no shard"
    print(f"names per shard: {sizes} (sum {sum(sizes)}), each equal to rclone's --hash-filter K/{SHARDS}")

    # The destination, read by the Azure SDK: every blob, by MD5.
    from azure.storage.blob import ContainerClient
    container = ContainerClient.from_container_url(dest, credential={"account_name": "devstoreaccount1",
                                                                     "account_key": KEY})
    got = {b.name: hashlib.md5(container.download_blob(b.name).readall()).hexdigest()
           for b in container.list_blobs()}
    assert got == expected, f"{len(set(got) ^ set(expected))} names differ, " \
                            f"{sum(1 for n in got if expected.get(n) != got[n])} contents differ"
    print(f"destination: {len(got)} blobs, every one equal to its source by MD5 (Azure SDK)")

    out = (evidence / f"task-{KILLED}.out").read_text()
    sent = [int(l.rsplit(":", 1)[1]) for l in out.splitlines() if l.startswith("Total Number of Bytes Transferred")]
    share = sum((src / n).stat().st_size for n in expected if n in oracle_names(rclone, src, KILLED))
    print(f"shard {KILLED}: {share} bytes in its share; the requeued run sent {sent[-1] if sent else '?'} "
          f"(the killed run's output has no summary: it was killed)")
    verify_then_merge(args, work, dest, env, expected)
    sync_then_commit(args, work, dest, env, expected)
    range_plan_copy(args, work, account, env, expected)
    print(f"OK in {time.time() - started:.1f} s")


def range_plan_copy(args, work: Path, account: str, env: dict, expected: dict) -> None:
    """A range plan over-partitioned (2N ranges, N at a time, as `--array=0-(M-1)%N`): each shard
    holds exactly its range, the shards together every file once, the destination equals the
    source by MD5, and the run's verification, split by the same plan, merges as identical."""
    from azure.storage.blob import ContainerClient
    src, evidence, plans = work / "src", work / "evidence", work / "state" / "plans"
    ranges = 2 * SHARDS
    plan_file = work / "plan.json"
    sh(args.ferry, "shards", "plan", str(src), "--shards", str(ranges), "--by", "bytes", "-o", str(plan_file), env=env)
    plan = json.loads(plan_file.read_text())
    dest = f"{account}/dst-range"
    for command, run in (("copy", f"range-{RUN}"), ("verify", f"range-verify-{RUN}")):
        extra = "--recursive" if command == "copy" else "--compute-hash"
        source = f"{src}/*" if command == "copy" else str(src)
        completed_array(work, run, ranges, env, f"{args.ferry} {command} '{source}' '{dest}' {extra} "
                        f"--shard-plan {plan_file} --run-id {run} --report-dir {evidence}", at_once=SHARDS)
    union, sizes = set(), []
    for shard in plan["shards"]:
        k = shard["index"]
        manifest = json.loads((evidence / f"range-{RUN}" / f"shard-{k:05}-of-{ranges:05}.manifest.json").read_text())
        with sqlite3.connect(f"file:{plans / (manifest['job_id'] + '.db')}?mode=ro", uri=True) as c:
            names = {r[0] for r in c.execute("SELECT source FROM item WHERE status = 'Success'")}
        lo, hi = shard["from"], shard.get("to")
        # The corpus's names are ASCII, where Python's order is the listing order.
        inside = {n for n in expected if lo <= n and (hi is None or n < hi)}
        assert names == inside, f"range {k}: {len(names ^ inside)} names differ from its range"
        assert not names & union, f"range {k} shares names with another"
        union |= names
        sizes.append(len(names))
    assert union == set(expected), f"{len(set(expected) - union)} names in no range"
    container = ContainerClient.from_container_url(dest, credential={"account_name": "devstoreaccount1",
                                                                     "account_key": KEY})
    got = {b.name: hashlib.md5(container.download_blob(b.name).readall()).hexdigest()
           for b in container.list_blobs()}
    assert got == expected, f"{len(set(got) ^ set(expected))} names differ in dst-range"
    merged = subprocess.run([args.ferry, "verify", "--merge", str(evidence / f"range-verify-{RUN}")],
                            capture_output=True, text=True, env=env)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    print(f"range plan: {ranges} ranges by bytes, {SHARDS} at a time; files per range {sizes} "
          f"(sum {sum(sizes)}); destination equal by MD5; merged verification identical")


def verify_then_merge(args, work: Path, dest: str, env: dict, expected: dict) -> None:
    """A sharded verify as an array, then one merged verification of the run."""
    src, evidence = work / "src", work / "evidence"
    completed_array(work, "verify", SHARDS, env, f"{args.ferry} verify '{src}' '{dest}' --compute-hash "
                    f"--shards {SHARDS} --run-id verify-{RUN} --report-dir {evidence}")
    t0 = time.time()
    merged = subprocess.run([args.ferry, "verify", "--merge", str(evidence / f"verify-{RUN}")],
                            capture_output=True, text=True, env=env)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    matched = [l for l in merged.stdout.splitlines() if l.startswith("Objects Matched")]
    assert matched == [f"Objects Matched: {len(expected)}"], merged.stdout
    print(f"sharded verify: {SHARDS} shards, merged in {time.time() - t0:.2f} s: {matched[0]}, identical")


def sync_then_commit(args, work: Path, dest: str, env: dict, expected: dict) -> None:
    """A sharded sync as a second array: the source changes, the destination has extras; the
    shards copy what changed and delete nothing; the commit deletes the extras, once."""
    from azure.storage.blob import ContainerClient
    src, evidence = work / "src", work / "evidence"
    container = ContainerClient.from_container_url(dest, credential={"account_name": "devstoreaccount1",
                                                                     "account_key": KEY})
    extras = [f"extra/e-{i:03}.txt" for i in range(40)]
    for name in extras:
        container.upload_blob(name, b"only at the destination")
    changed = sorted(expected)[:25]
    for name in changed:
        (src / name).write_bytes(os.urandom(2048))
        expected[name] = hashlib.md5((src / name).read_bytes()).hexdigest()
    completed_array(work, "sync", SHARDS, env, f"{args.ferry} sync '{src}' '{dest}' --delete-destination=true "
                    f"--shards {SHARDS} --run-id sync-{RUN} --report-dir {evidence}")
    left = {b.name for b in container.list_blobs(name_starts_with="extra/")}
    assert left == set(extras), "a shard deleted before the commit"
    copied = 0
    for k in range(SHARDS):
        out = (evidence / f"sync-{k}.out").read_text()
        copied += sum(int(l.rsplit(":", 1)[1]) for l in out.splitlines()
                      if l.startswith("Number of Copy Transfers Completed"))
    assert copied == len(changed), f"the shards copied {copied} of {len(changed)} changed files"
    commit = subprocess.run([args.ferry, "shards", "commit", str(src), dest, "--delete-destination=true",
                             "--run-id", f"sync-{RUN}", "--report-dir", str(evidence)],
                            capture_output=True, text=True, env=env)
    assert commit.returncode == 0, commit.stdout + commit.stderr
    got = {b.name: hashlib.md5(container.download_blob(b.name).readall()).hexdigest()
           for b in container.list_blobs()}
    assert got == expected, f"{len(set(got) ^ set(expected))} names differ after the commit"
    print(f"sharded sync: {copied} changed files copied by {SHARDS} shards, {len(extras)} extras kept until "
          f"`ferry shards commit` deleted them; the destination equals the source by MD5")


def completed_array(work: Path, name: str, count: int, env: dict, command: str, at_once: int = 0) -> str:
    """Runs `command` as a Slurm array of `count` tasks (at most `at_once` at a time), output in
    evidence/NAME-K.out; waits for it and checks every task completed. Returns the job id."""
    worker = work / f"{name}.sh"
    worker.write_text(f"#!/usr/bin/env bash\nexec {command}\n")
    worker.chmod(0o755)
    limit = f"%{at_once}" if at_once else ""
    job = sh("sbatch", "--parsable", f"--array=0-{count - 1}{limit}", "--export=ALL",
             f"--output={work / 'evidence'}/{name}-%a.out", str(worker), env=env).strip()
    wait_array(job)
    states = {k: task_field(job, k, "JobState") for k in range(count)}
    assert all(v == "COMPLETED" for v in states.values()), states
    return job


def oracle_names(rclone: Path, src: Path, k: int) -> set:
    return set(sh(str(rclone), "lsf", "-R", "--files-only", "--hash-filter", f"{k}/{SHARDS}", str(src),
                  env=dict(os.environ, RCLONE_CONFIG="/dev/null")).splitlines())


if __name__ == "__main__":
    main()
