"""Shared makers for the collection tests: a pristine collection folder copied per test, returns with mistakes,
and a real server (``libstats serve`` in its own process) for the tests that kill it."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

from libstats.collection.collect import init_collection, issue_links, open_collection

from . import corpus as c

YEAR = c.YEAR
DEADLINE = dt.date(2025, 3, 15)
S22 = "2.2 Số liệu"


def collection(tmp_path: Path, factory) -> tuple:
    """A fresh copy of a collection folder (forms written once per test run) and its links by code."""
    from .conftest import built_once

    pristine = built_once(factory, "pristine-collection", lambda out: init_collection(out / "col", YEAR, DEADLINE))
    root = tmp_path / "col"
    shutil.copytree(pristine / "col", root)
    col = open_collection(root)
    links = {code: link for code, _, link in issue_links(col)}
    return col, links


def with_mistakes(path: Path) -> Path:
    """A Hà Nội return with a negative figure and a total that is not the sum (two errors at their cells)."""
    return c.with_values(path, bo_sung_xa_n=-5, the_cap_moi_tong_n=1)


def corrected_with_warning(path: Path, tmp: Path) -> Path:
    """The corrected return, whose sheet protection was removed (a warning the Ministry reviews)."""
    return c.unprotect(c.filled(tmp / "ok-src.xlsx"), path, S22)


def cell(fid: str) -> str:
    return c.FORM.fields[fid].cell


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, cap: float = 60.0, step: float = 0.1) -> bool:
    """Poll ``condition`` until it holds or ``cap`` seconds pass (a generous cap, not a timing verdict)."""
    end = time.monotonic() + cap
    while not condition():
        if time.monotonic() > end:
            return bool(condition())
        time.sleep(step)
    return True


def children(pid: int) -> list[int]:
    """The process ids of ``pid``'s children (Linux /proc)."""
    found = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(x) for x in fh.read().split()]
    return sorted(found)


def gone(pid: int) -> bool:
    """The process has ended (no longer there, or a zombie waiting to be reaped)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


class Server:
    """A real ``libstats serve`` of a collection folder in its own process; its log goes to ``log``."""

    def __init__(self, root: Path, log: Path, preexec=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "libstats.cli", "serve", str(root), "--port",
                                          str(self.port)], stdout=subprocess.DEVNULL, stderr=err,
                                         preexec_fn=preexec)
        assert wait_until(self.ready), log.read_text()

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"the server stopped: {self.log.read_text()}")
        try:
            up = httpx.get(self.base + "/", timeout=5).status_code == 200
        except httpx.TransportError:
            return False
        return up and bool(children(self.proc.pid))  # its check workers have started too

    def upload(self, link: str, path: Path, data: bytes | None = None) -> httpx.Response:
        with httpx.Client(base_url=self.base, timeout=120) as client:
            token = csrf(client.get(link).text)
            return client.post(f"{link}/gui", data={"csrf": token}, follow_redirects=True,
                               files={"tep": (path.name, path.read_bytes() if data is None else data)})

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)
