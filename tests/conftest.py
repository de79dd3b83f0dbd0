"""Shared fixtures: generated templates, inboxes of every province, one headless LibreOffice per test session;
and the record of the finding codes the session produced: a whole-suite run fails unless it covers the catalogue
(checked at the end of the session, across pytest-xdist workers).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import select
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from libstats.model import findings
from libstats.model.form import build_form
from libstats.model.provinces import province, provinces_for_year
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, template_filename, write_template, write_templates

HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"

# Every finding made in this process or received from a worker process (unpickled) is recorded by code.
PRODUCED: set[str] = set()
COLLECTED: dict[str, set] = {"modules": set(), "deselected": set()}
_finding_init = findings.Finding.__init__


def _recording_init(self, *args, **kwargs):
    _finding_init(self, *args, **kwargs)
    PRODUCED.add(self.code)


def _recording_setstate(self, state):
    self.__dict__.update(state)
    PRODUCED.add(state["code"])


findings.Finding.__init__ = _recording_init
findings.Finding.__setstate__ = _recording_setstate

# The test files that take longest, longest first (seconds of one worker, measured on 2 cores). pytest-xdist hands
# whole files to its workers in collection order (``--no-loadscope-reorder``): long files first and the short ones
# last, so that both workers finish together. A file not listed runs after these; a wrong order is only slower.
SLOWEST_FIRST = ("test_report.py", "test_libreoffice_values.py", "test_web_browser.py", "test_feedback.py",
                 "test_rollover.py", "test_check.py", "test_samples_demo.py", "test_libreoffice_check.py",
                 "test_review.py", "test_collect.py", "test_collect_commands.py", "test_consolidate.py",
                 "test_libreoffice_consolidate.py", "test_libreoffice_template.py", "test_template.py",
                 "test_hostile.py", "test_libreoffice_reader.py", "test_web_security.py", "test_web.py",
                 "test_domain.py", "test_xlsx_strings.py", "test_properties.py", "test_batch_transport.py")


def pytest_collection_modifyitems(session, config, items):
    COLLECTED["modules"].update(Path(str(item.fspath)).name for item in items)
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's tests keep their order


def pytest_deselected(items):
    COLLECTED["deselected"].update(item.nodeid for item in items)


def catalogue_gaps(produced: set[str], modules: set[str], deselected: set[str]) -> list[str] | None:
    """The catalogue's codes no test produced; None when the run was not the whole suite (nothing to say)."""
    every_module = {p.name for p in HERE.glob("test_*.py")}
    if every_module - modules or deselected:
        return None
    return sorted(set(findings.CATALOGUE) - produced) + sorted(produced - set(findings.CATALOGUE))


CATALOGUE_GAPS: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: a worker's record of codes and modules joins the controller's."""
    out = getattr(node, "workeroutput", {})
    PRODUCED.update(out.get("produced", ()))
    COLLECTED["modules"].update(out.get("modules", ()))
    COLLECTED["deselected"].update(out.get("deselected", ()))


def pytest_sessionfinish(session, exitstatus):
    """Every code of the finding catalogue must be produced by some test of the suite (add a case, or remove the
    code). Checked once all tests have run: in the one process, or on the controller from its workers' records."""
    worker_out = getattr(session.config, "workeroutput", None)
    if worker_out is not None:  # a pytest-xdist worker: hand the record over
        worker_out.update(produced=sorted(PRODUCED), modules=sorted(COLLECTED["modules"]),
                          deselected=sorted(COLLECTED["deselected"]))
        return
    gaps = catalogue_gaps(PRODUCED, COLLECTED["modules"], COLLECTED["deselected"])
    if gaps:
        CATALOGUE_GAPS[:] = gaps
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if CATALOGUE_GAPS:
        terminalreporter.section("finding catalogue", red=True)
        terminalreporter.line(f"FAILED: finding codes no test produces, or produced but not in the catalogue: "
                              f"{CATALOGUE_GAPS}", red=True)


def lo_missing_reason() -> str | None:
    if not shutil.which("soffice"):
        return "LibreOffice (soffice) is not installed"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True) if Path(
        SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        return "python3-uno is not installed for /usr/bin/python3"
    return None


_FILTERS = {"pdf": "pdf", "xls": "MS Excel 97", "ods": "calc8"}


class LibreOffice:
    """A headless LibreOffice with its own profile, driven through tests/lo/uno_fill.py."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.pipe = f"libstats_{uuid.uuid4().hex[:8]}"
        profile = workdir / "profile"
        self.proc = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore", "--nodefault", "--nologo",
             f"-env:UserInstallation={profile.as_uri()}", f"--accept=pipe,name={self.pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._jobs = 0
        self._client: subprocess.Popen | None = None

    def _ask(self, job: Path, result: Path) -> str:
        """The session's UNO client runs the job (started on first use, again if it died): its answer line."""
        for _ in range(2):  # the client may have died of a signal while its bridge shut down: once more
            if self._client is None:
                with (self.workdir / "client.log").open("ab") as log:
                    self._client = subprocess.Popen(
                        [SYSTEM_PYTHON, str(HERE / "lo" / "uno_fill.py"), self.pipe, "--serve"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
            try:
                self._client.stdin.write(f"{job}\t{result}\n")
                self._client.stdin.flush()
                ready, _, _ = select.select([self._client.stdout], [], [], 300)
                answer = self._client.stdout.readline() if ready else "error: no answer in 300 s"
            except OSError:  # a broken pipe: the client is gone
                answer = ""
            if answer:
                return answer.rstrip("\n")
            self._stop_client()
        return "error: the UNO client died twice (see client.log)"

    def _stop_client(self):
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.stdin.close()  # the client's loop ends
        except OSError:
            pass
        try:
            client.wait(timeout=20)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
        client.stdout.close()

    def fill(self, src: Path, dst: Path | None = None, values: dict | None = None, read_names=(),
             read_cells=(), export_filter: str | None = None) -> dict:
        self._jobs += 1
        job = self.workdir / f"job{self._jobs}.json"
        result = self.workdir / f"result{self._jobs}.json"
        job.write_text(json.dumps({"input": str(src), "output": str(dst) if dst else None, "values": values or {},
                                   "filter": export_filter, "read_names": list(read_names),
                                   "read_cells": [list(c) for c in read_cells]}, ensure_ascii=False),
                       encoding="utf-8")
        result.unlink(missing_ok=True)
        answer = self._ask(job, result)
        assert answer == "ok", answer.replace("\\n", "\n")
        return json.loads(result.read_text(encoding="utf-8"))

    def convert(self, src: Path, fmt: str, outdir: Path) -> Path:
        """What ``soffice --convert-to fmt`` writes (pdf, xls, ods), by the running instance (no start-up)."""
        out = outdir / (src.stem + "." + fmt)
        self.fill(src, out, export_filter=_FILTERS[fmt])
        assert out.exists(), f"LibreOffice did not write {out}"
        return out

    def close(self):
        self._stop_client()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def sheet_rows(path: Path, sheet: str, cells: bool = False) -> list[tuple]:
    """The rows of one sheet of a (large) workbook, as values (or read-only cells), without loading the others:
    a summary of every province takes seconds to load whole."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb[sheet].iter_rows(values_only=not cells))
    finally:
        wb.close()


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A folder that ``build`` fills once per test run, shared by the pytest-xdist workers (the first to ask
    builds it, the other waits for it). What is in it must never be modified: copy it."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder = base / name
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (base / f"{name}.done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (base / f"{name}.done").touch()
    return folder


@pytest.fixture(scope="session")
def lo(tmp_path_factory):
    reason = lo_missing_reason()
    if reason:
        if os.environ.get("LIBSTATS_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"LibreOffice is required here (LIBSTATS_REQUIRE_LIBREOFFICE=1): {reason}")
        pytest.skip(reason)
    office = LibreOffice(tmp_path_factory.mktemp("lo"))  # starting: the UNO client retries until it answers
    yield office
    office.close()


@pytest.fixture(scope="session")
def form2024():
    return build_form(2024)


@pytest.fixture(scope="session")
def form2026():
    return build_form(2026)


@pytest.fixture(scope="session")
def hanoi_2024(tmp_path_factory, form2024) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "hanoi.xlsx"
    return write_template(form2024, path, TemplateOptions(province=province(2024, "01")))


@pytest.fixture(scope="session")
def generic_2024(tmp_path_factory, form2024) -> Path:
    return write_template(form2024, tmp_path_factory.mktemp("tpl") / "generic.xlsx")


RETURNS_SEED = 11
RETURNS_SAVED = dt.datetime(2024, 12, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def returns_2024(tmp_path_factory, form2024) -> dict[str, Path]:
    """A clean return of every 2024 province (sample figures, seed RETURNS_SEED, saved at RETURNS_SAVED), by
    province code; written once per session. Copy them into an inbox; never modify them."""
    provinces = list(provinces_for_year(2024))
    folder = built_once(tmp_path_factory, "returns-2024", lambda out: write_templates(
        form2024, provinces, out, prefill=lambda p: TemplateOptions(
            values=sample_values(form2024, p, seed=RETURNS_SEED), generated_at=RETURNS_SAVED)))
    return {p.code: folder / template_filename(form2024, p) for p in provinces}
