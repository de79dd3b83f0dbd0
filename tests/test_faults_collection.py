"""Faults while a collection receives files: the server killed (kill -9) during uploads and started again, an
inbox that cannot be written, an exception while a file is written, a full disk under a real server, what an
older server left. After each: every accepted return is still counted, the register's rows are the inbox's
files, no stray file is left, and the status counts are unchanged."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import resource
import shutil
import subprocess
import threading

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from libstats.collection.collect import NotReceived, collection_status, issue_links, receive_upload
from libstats.collection.web import create_app

from . import corpus as c
from .collecting import Server, children, collection, csrf, gone, wait_until

CODES = ("01", "02", "04")


@pytest.fixture
def site(tmp_path, tmp_path_factory):
    col, links = collection(tmp_path, tmp_path_factory)
    returns = {code: c.filled(tmp_path / f"{code}.xlsx", p=c.province(c.YEAR, code)) for code in CODES}
    return col, links, returns


def invariants(col, accepted: dict[str, int]) -> tuple:
    """Check the invariants; the status counts (to compare before and after a fault)."""
    st = collection_status(col)
    counted = {s.province.key: s.used for s in st.provinces if s.used is not None}
    for key in accepted:  # every accepted return still counts (the province's, or a newer accepted one)
        assert key in counted and counted[key].verdict in ("accepted", "accepted_with_warnings"), key
    rows = set(col.register.stored_names().values())
    files = {p.relative_to(col.inbox).as_posix() for p in col.inbox.rglob("*") if p.is_file()}
    assert rows == files  # a row for every file, a file for every row
    assert not col.incoming.exists() or list(col.incoming.iterdir()) == []  # no temporary file left
    return len(st.received), len(st.accepted), len(st.missing), len(st.approved)


def accept_all(server_or_client, links, returns) -> dict[str, int]:
    out = {}
    for code, path in returns.items():
        r = server_or_client(links[code], path)
        assert r.status_code == 200 and "Chấp nhận" in r.text, r.text[:300]
        out[c.province(c.YEAR, code).key] = int(str(r.url).rsplit("/", 1)[1])
    return out


def test_killing_the_server_ends_its_check_workers(site, tmp_path):
    col, links, returns = site
    server = Server(col.root, tmp_path / "server.log")
    try:
        workers = children(server.proc.pid)
        assert workers and not any(gone(p) for p in workers)
        server.kill()
        assert wait_until(lambda: all(gone(p) for p in workers)), [p for p in workers if not gone(p)]
    finally:
        server.stop()


def test_kill_9_during_uploads_then_a_restart_loses_nothing_and_leaves_nothing(site, tmp_path):
    col, links, returns = site
    log = tmp_path / "server.log"
    server = Server(col.root, log)
    try:
        accepted = accept_all(server.upload, links, returns)
        before = invariants(col, accepted)
        workers = children(server.proc.pid)
        rows = len(col.register.stored_names())
        answers = []

        def again(code):  # the same provinces send again, all at once; the server is killed meanwhile
            with contextlib.suppress(Exception):
                answers.append(server.upload(links[code], returns[code]))

        threads = [threading.Thread(target=again, args=(code,)) for code in CODES * 2]
        for t in threads:
            t.start()
        wait_until(lambda: len(col.register.stored_names()) > rows, cap=20, step=0.01)  # some are in, some not
        server.kill()
        for t in threads:
            t.join()
        assert wait_until(lambda: all(gone(p) for p in workers))
    finally:
        server.stop()
    server = Server(col.root, log)  # the restart sweeps what the killed one left
    try:
        for r in answers:  # an upload answered before the kill was accepted, and stays counted
            assert "Chấp nhận" in r.text
        assert invariants(col, accepted) == before
        assert server.upload(links["01"], returns["01"]).status_code == 200
        assert invariants(col, accepted) == before
    finally:
        server.stop()
    assert "Traceback" not in log.read_text()


def _fsize_limit():  # in the server's process: no file may grow beyond 4 MB (a disk that fills up)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 * 2**20, 4 * 2**20))


def test_a_full_disk_during_an_upload_is_a_vietnamese_page_and_nothing_is_recorded(site, tmp_path):
    col, links, returns = site
    log = tmp_path / "server.log"
    server = Server(col.root, log, preexec=_fsize_limit)
    try:
        accepted = accept_all(server.upload, links, returns)
        before = invariants(col, accepted)
        r = server.upload(links["02"], returns["02"], data=b"PK" + b"\0" * (5 * 2**20))
        assert r.status_code == 503 and "Tệp chưa được nhận" in r.text and "Hãy gửi lại tệp" in r.text
        ref = r.text.split('Mã tham chiếu: <strong class="code">')[1].split("<")[0]
        assert invariants(col, accepted) == before
        again = server.upload(links["02"], returns["02"])
        assert "Chấp nhận" in again.text and "lần 2" in again.text  # sent again: the next round, in order
        for path in (f"{links['02']}/tep/9223372036854775808", f"{links['02']}/gui"):  # a client's errors
            r = httpx.get(server.base + path, timeout=60)
            assert r.status_code in (404, 405) and '<html lang="vi">' in r.text
    finally:
        server.stop()
    text = log.read_text()
    assert "Traceback" not in text and [line for line in text.splitlines() if ref in line] != []
    assert sum(ref in line for line in text.splitlines()) == 1


@contextlib.contextmanager
def unwritable(folder):
    """A folder no file can be added to, even by root (chattr +i; chmod for another user)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(folder)]).returncode != 0:
        pytest.skip("chattr cannot make a folder unwritable here")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_an_unwritable_inbox_refuses_the_upload_in_vietnamese_and_records_nothing(site, caplog):
    col, links, returns = site
    client = TestClient(create_app(col.root))

    def post(link, path):
        return client.post(f"{link}/gui", data={"csrf": csrf(client.get(link).text)},
                           files={"tep": (path.name, path.read_bytes())})

    accepted = accept_all(post, links, returns)
    before = invariants(col, accepted)
    with unwritable(col.inbox), caplog.at_level(logging.INFO):
        r = post(links["01"], returns["01"])
    assert r.status_code == 503 and "Tệp chưa được nhận" in r.text and "Hãy gửi lại tệp" in r.text
    [line] = [rec for rec in caplog.records if rec.name == "libstats.web"]
    assert line.exc_info is None and line.getMessage().split()[2].rstrip(":") in r.text
    assert invariants(col, accepted) == before
    r = post(links["01"], returns["01"])
    assert "Chấp nhận" in r.text and "lần 2" in r.text


class Broken(io.RawIOBase):
    """An upload whose reading fails half-way (a disk error, a connection cut while the file is copied)."""

    def __init__(self, data: bytes):
        self.data, self.sent = data, 0

    def readable(self):
        return True

    def readinto(self, buf):
        if self.sent >= len(self.data) // 2:
            raise OSError(5, "Input/output error")
        n = min(len(buf), len(self.data) // 2 - self.sent, 4096)
        buf[:n] = self.data[self.sent:self.sent + n]
        self.sent += n
        return n


def test_an_exception_while_the_file_is_written_keeps_nothing_and_records_nothing(site):
    col, links, returns = site
    accepted = {}
    for code, path in returns.items():
        with open(path, "rb") as fh:
            rec = receive_upload(col, c.province(c.YEAR, code), fh, path.name)
        accepted[rec.province] = rec.id
    before = invariants(col, accepted)
    with pytest.raises(NotReceived):
        receive_upload(col, c.HANOI, io.BufferedReader(Broken(returns["01"].read_bytes())), "a.xlsx")
    assert invariants(col, accepted) == before


def test_what_a_stopped_older_server_left_is_cleared_at_the_start(site):
    col, links, returns = site
    with open(returns["01"], "rb") as fh:
        ok = receive_upload(col, c.HANOI, fh, "a.xlsx")
    before = invariants(col, {ok.province: ok.id})
    half = col.inbox / ".01_ha-noi_20250101-101010_ab12cd34.xlsx.k2j4h5"  # an older server's half-written file
    half.write_bytes(b"PK\x03\x04 half")
    (col.incoming).mkdir(exist_ok=True)
    (col.incoming / "tmpab12").write_bytes(b"PK")
    lost = col.register.receive("01_ha-noi_lost.xlsx", "b.xlsx", "upload", c.HANOI.key)  # a row, never its file
    create_app(col.root)
    assert not half.exists() and col.register.file(lost) is None and col.register.failed_receptions() == 1
    assert invariants(col, {ok.province: ok.id}) == before
    st = next(s for s in collection_status(col).provinces if s.province == c.HANOI)
    assert (st.rounds, st.used.id, st.last.id, st.used.round) == (1, ok.id, ok.id, 1)
    page = TestClient(create_app(col.root)).get(issue_links(col, ["ministry"])[0][2]).text
    assert "1 lần gửi không được nhận trọn vẹn" in page and "01_ha-noi_lost.xlsx" not in page
