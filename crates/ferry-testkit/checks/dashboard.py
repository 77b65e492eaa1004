"""Loads a page of `ferry serve` in a real headless browser (Debian's Chromium) and reports what a
person would see: the DOM after the browser built it, read back as the jobs table (or a job page's
fields), as JSON. With --screenshot, also saves a PNG of the page.
Usage: dashboard.py URL [--screenshot FILE.png] [--size 1280,720]"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from html.parser import HTMLParser


class Page(HTMLParser):
    """Collects the jobs table's rows, the failures table's rows, and the resume command."""

    def __init__(self):
        super().__init__()
        self.rows, self.failures, self.resume, self.title = [], [], None, ""
        self._row, self._table, self._in_resume, self._in_title, self._cell = None, None, False, False, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("id")
        elif tag == "tr" and "job" in (a.get("class") or "").split():
            self._row = {"id": a.get("data-id")}
        elif tag == "tr" and self._table == "failures":
            self._row = {"cells": []}
        elif tag == "td" and self._row is not None and "cells" in self._row:
            self._cell = ""
        elif tag == "span" and self._row is not None and "data-status" in a:
            self._row["status"] = a["data-status"]
        elif tag == "span" and self._row is not None and "data-percent" in a:
            self._row["percent"] = float(a["data-percent"])
        elif tag == "td" and self._row is not None and "data-bytes" in a:
            self._row["bytes"] = int(a["data-bytes"])
        elif tag == "td" and self._row is not None and "data-done" in a:
            self._row["done"] = int(a["data-done"])
        elif tag == "code" and a.get("id") == "resume":
            self._in_resume, self.resume = True, ""
        elif tag == "title":
            self._in_title = True
        elif tag == "span" and "data-status" in a and self._row is None:
            self.rows.append({"page_status": a["data-status"]})

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            if "cells" not in self._row:
                self.rows.append(self._row)
            elif self._row["cells"]:  # not the header row
                self.failures.append(self._row)
            self._row = None
        elif tag == "td" and self._cell is not None:
            self._row["cells"].append(self._cell.strip())
            self._cell = None
        elif tag == "code":
            self._in_resume = False
        elif tag == "title":
            self._in_title = False
        elif tag == "table":
            self._table = None

    def handle_data(self, data):
        if self._in_resume:
            self.resume += data
        if self._in_title:
            self.title += data
        if self._cell is not None:
            self._cell += data


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("no Chromium: install Debian's `chromium` (scripts/install-tools does)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--screenshot")
    ap.add_argument("--size", default="1280,720")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as profile:
        base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                f"--user-data-dir={profile}", f"--window-size={args.size}"]
        dom = subprocess.run(base + ["--dump-dom", args.url], capture_output=True, text=True, timeout=60)
        if dom.returncode != 0 or "<html" not in dom.stdout:
            sys.exit(f"chromium could not load {args.url}: {dom.stderr[-2000:]}")
        if args.screenshot:
            shot = subprocess.run(base + [f"--screenshot={args.screenshot}", args.url],
                                  capture_output=True, text=True, timeout=60)
            if shot.returncode != 0:
                sys.exit(f"chromium could not take a screenshot: {shot.stderr[-2000:]}")
    page = Page()
    page.feed(dom.stdout)
    print(json.dumps({"title": page.title, "rows": page.rows, "failures": page.failures, "resume": page.resume}))


if __name__ == "__main__":
    main()
