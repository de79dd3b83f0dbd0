"""Shared fixtures: generated templates, inboxes of every province, one headless LibreOffice per test session;
and the record of the finding codes the session produced (tests/test_catalogue.py checks it covers the catalogue).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from libstats import findings
from libstats.form import build_form
from libstats.provinces import province, provinces_for_year
from libstats.samples import sample_values
from libstats.template import TemplateOptions, write_template, write_templates

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

CATALOGUE_TEST = "test_every_finding_code_is_produced_by_some_test"


def pytest_collection_modifyitems(session, config, items):
    """The catalogue-coverage test runs last, after every test that produces findings."""
    COLLECTED["modules"].update(Path(str(item.fspath)).name for item in items)
    items.sort(key=lambda item: item.name == CATALOGUE_TEST)


def pytest_deselected(items):
    COLLECTED["deselected"].update(item.nodeid for item in items)


def lo_missing_reason() -> str | None:
    if not shutil.which("soffice"):
        return "LibreOffice (soffice) is not installed"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True) if Path(
        SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        return "python3-uno is not installed for /usr/bin/python3"
    return None


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

    def fill(self, src: Path, dst: Path | None = None, values: dict | None = None, read_names=(),
             read_cells=()) -> dict:
        self._jobs += 1
        job = self.workdir / f"job{self._jobs}.json"
        result = self.workdir / f"result{self._jobs}.json"
        job.write_text(json.dumps({"input": str(src), "output": str(dst) if dst else None, "values": values or {},
                                   "read_names": list(read_names), "read_cells": [list(c) for c in read_cells]},
                                  ensure_ascii=False), encoding="utf-8")
        for _ in range(2):  # the UNO client sometimes dies of a signal while its bridge shuts down: once more
            result.unlink(missing_ok=True)
            run = subprocess.run([SYSTEM_PYTHON, str(HERE / "lo" / "uno_fill.py"), self.pipe, str(job), str(result)],
                                 capture_output=True, text=True, timeout=300)
            if run.returncode >= 0:
                break
        assert run.returncode == 0, run.stderr
        return json.loads(result.read_text(encoding="utf-8"))

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def convert(src: Path, fmt: str, outdir: Path) -> Path:
    """soffice --convert-to, with a private profile so it never collides with the running instance."""
    profile = outdir / f"profile-{uuid.uuid4().hex[:6]}"
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", fmt, "--outdir", str(outdir), str(src)], check=True, capture_output=True,
                   timeout=300)
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    assert out.exists(), f"LibreOffice did not write {out}"
    return out


@pytest.fixture(scope="session")
def lo(tmp_path_factory):
    reason = lo_missing_reason()
    if reason:
        if os.environ.get("LIBSTATS_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"LibreOffice is required here (LIBSTATS_REQUIRE_LIBREOFFICE=1): {reason}")
        pytest.skip(reason)
    office = LibreOffice(tmp_path_factory.mktemp("lo"))
    time.sleep(1)
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
    folder = tmp_path_factory.mktemp("returns-2024")
    provinces = list(provinces_for_year(2024))
    paths = write_templates(form2024, provinces, folder, prefill=lambda p: TemplateOptions(
        values=sample_values(form2024, p, seed=RETURNS_SEED), generated_at=RETURNS_SAVED))
    return {p.code: path for p, path in zip(provinces, paths, strict=True)}
