"""Shared fixtures: generated templates, inboxes of every province, one headless LibreOffice per test session;
and the check that a whole-suite run produced every finding code of the catalogue (tests/catalogue.py records
them through libstats' public watch_findings; checked at the end of the session, across pytest-xdist workers).
The helpers test files share live in helper modules (libreoffice.py, workbooks.py); the names imported here from
them are kept for the test files that still import them from conftest.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from libstats.model.form import build_form
from libstats.model.provinces import province, provinces_for_year
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, template_filename, write_template, write_templates

from . import catalogue
from .libreoffice import HERE, SYSTEM_PYTHON, LibreOffice, lo_missing_reason  # noqa: F401 (helpers' old home)
from .workbooks import RETURNS_SAVED, RETURNS_SEED, built_once, sheet_rows  # noqa: F401 (helpers' old home)

catalogue.record()
# No verdict of a property test depends on the machine's speed: no deadline per example, no health check of the
# time it takes to make examples.
settings.register_profile("libstats", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("libstats")

# The test files that take longest, longest first (seconds of one worker, measured on 2 cores). pytest-xdist hands
# whole files to its workers in collection order (``--no-loadscope-reorder``): long files first and the short ones
# last, so that both workers finish together. A file not listed runs after these; a wrong order is only slower.
SLOWEST_FIRST = ("test_report_narratives.py", "test_report.py", "test_libreoffice_values.py", "test_web_browser.py",
                 "test_feedback.py", "test_rollover.py", "test_check.py", "test_samples_demo.py",
                 "test_libreoffice_check.py", "test_review.py", "test_collect.py", "test_collect_commands.py",
                 "test_consolidate.py", "test_libreoffice_consolidate.py", "test_libreoffice_template.py",
                 "test_template.py", "test_hostile.py", "test_libreoffice_reader.py", "test_web_security.py",
                 "test_web.py", "test_domain.py", "test_xlsx_strings.py", "test_properties.py",
                 "test_batch_transport.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one pytest-xdist worker more than the cores this process may use. A worker waiting on
    LibreOffice, the browser or a time limit leaves its core to the others. PYTEST_XDIST_AUTO_NUM_WORKERS still
    decides when it is set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return len(os.sched_getaffinity(0)) + 1


def pytest_collection_modifyitems(session, config, items):
    catalogue.COLLECTED["modules"].update(Path(str(item.fspath)).name for item in items)
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file's tests keep their order


def pytest_deselected(items):
    catalogue.COLLECTED["deselected"].update(item.nodeid for item in items)


CATALOGUE_GAPS: list[str] = []


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """pytest-xdist: a worker's record of codes and modules joins the controller's."""
    out = getattr(node, "workeroutput", {})
    catalogue.PRODUCED.update(out.get("produced", ()))
    catalogue.COLLECTED["modules"].update(out.get("modules", ()))
    catalogue.COLLECTED["deselected"].update(out.get("deselected", ()))


def pytest_sessionfinish(session, exitstatus):
    """Every code of the finding catalogue must be produced by some test of the suite (add a case, or remove the
    code). Checked once all tests have run: in the one process, or on the controller from its workers' records."""
    worker_out = getattr(session.config, "workeroutput", None)
    if worker_out is not None:  # a pytest-xdist worker: hand the record over
        worker_out.update(produced=sorted(catalogue.PRODUCED), modules=sorted(catalogue.COLLECTED["modules"]),
                          deselected=sorted(catalogue.COLLECTED["deselected"]))
        return
    collected = catalogue.COLLECTED
    gaps = catalogue.catalogue_gaps(catalogue.PRODUCED, collected["modules"], collected["deselected"])
    if gaps:
        CATALOGUE_GAPS[:] = gaps
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if CATALOGUE_GAPS:
        terminalreporter.section("finding catalogue", red=True)
        terminalreporter.line(f"FAILED: finding codes no test produces, or produced but not in the catalogue: "
                              f"{CATALOGUE_GAPS}", red=True)


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


@pytest.fixture(scope="session")
def returns_2024(tmp_path_factory, form2024) -> dict[str, Path]:
    """A clean return of every 2024 province (sample figures, seed RETURNS_SEED, saved at RETURNS_SAVED), by
    province code; written once per session. Copy them into an inbox; never modify them."""
    provinces = list(provinces_for_year(2024))
    folder = built_once(tmp_path_factory, "returns-2024", lambda out: write_templates(
        form2024, provinces, out, prefill=lambda p: TemplateOptions(
            values=sample_values(form2024, p, seed=RETURNS_SEED), generated_at=RETURNS_SAVED)))
    return {p.code: folder / template_filename(form2024, p) for p in provinces}


@pytest.fixture(scope="session")
def dataset_2024(tmp_path_factory, returns_2024) -> Path:
    """The 2024 round of every province (returns_2024), consolidated once per test run: last year's dataset of
    the 2025 round. Never modify it."""
    from libstats.consolidation.consolidate import consolidate
    from libstats.consolidation.dataset import write_dataset

    def build(out: Path) -> None:
        con = consolidate(list(returns_2024.values()), 2024)
        assert len(con.reporting) == 63
        write_dataset(con.tidy, out / "tong-hop-2024_du-lieu.csv")

    return built_once(tmp_path_factory, "dataset-2024", build) / "tong-hop-2024_du-lieu.csv"


@pytest.fixture(scope="session")
def demo_2024(tmp_path_factory):
    """The demo command run once per test run for 2024 (in a folder shared by the pytest-xdist workers), with the
    library result it rendered and what it printed. Never modify what is in its folders."""
    from click.testing import CliRunner

    from libstats import demo as demo_mod
    from libstats.cli import main

    def build(out: Path) -> None:
        seen, run = [], demo_mod.run_demo

        def recording(*args, **kwargs):
            seen.append(run(*args, **kwargs))
            return seen[-1]

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(demo_mod, "run_demo", recording)
            result = CliRunner().invoke(main, ["demo", str(out / "d"), "--year", "2024", "-q"])
        assert result.exit_code == 0, result.output
        [res] = seen
        (out / "result.pickle").write_bytes(pickle.dumps((res, result.output)))

    folder = built_once(tmp_path_factory, "demo-2024", build)
    return pickle.loads((folder / "result.pickle").read_bytes())
