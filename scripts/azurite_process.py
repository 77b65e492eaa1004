"""Azurite as a plain process for the scripts that measure or trial Ferry outside the tests
(scripts/slurm/trial.py, scripts/scale/range_listing.py): on a free port, in memory, killed on
exit. The tests start theirs through ferry-testkit."""

import contextlib
import random
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# The emulator's published development key (not a secret).
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


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


@contextlib.contextmanager
def azurite(check_versions: bool = True):
    """Yields the port of a running Azurite (Blob only). It checks API versions, as Azure does,
    unless told not to (the Azure SDK's default version can be newer than Azurite knows)."""
    port = free_port()
    skip = [] if check_versions else ["--skipApiVersionCheck"]
    process = subprocess.Popen(
        [str(REPO / "tools/node/node_modules/.bin/azurite-blob"), "--blobHost", "127.0.0.1", "--blobPort", str(port),
         "--inMemoryPersistence", "--silent", "--loose", "--disableTelemetry", *skip],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        process.kill()
