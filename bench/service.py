"""What bench.py's emulators share: a server process on loopback, waited for until it answers, whose
CPU time is read from /proc and which is left to go idle between runs."""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


class LocalService:
    """A server process (`self.proc`) answering at `self.endpoint`; subclasses start both."""

    proc: subprocess.Popen
    endpoint: str

    def wait_answering(self) -> None:
        """Waits (up to 20 s) until the service answers a listing, even with an error."""
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.endpoint}?comp=list", timeout=1)
            except urllib.error.HTTPError:
                return  # it answers (401/403 without credentials)
            except OSError:
                time.sleep(0.1)
                continue
            return

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS

    def wait_idle(self, limit: float = 120.0) -> None:
        """Waits until the service uses under 3% of a core over two half-second windows."""
        quiet, deadline = 0, time.monotonic() + limit
        while time.monotonic() < deadline and quiet < 2:
            before = self.cpu_seconds()
            time.sleep(0.5)
            quiet = quiet + 1 if self.cpu_seconds() - before < 0.015 else 0

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
