"""The check that the suite covers the finding catalogue (conftest runs it at the end of a whole-suite run)."""

from pathlib import Path

from libstats.model.findings import CATALOGUE, Finding, Severity

from . import conftest

EVERY_MODULE = {p.name for p in Path(__file__).parent.glob("test_*.py")}


def test_a_finding_made_is_recorded_by_its_code():
    conftest.PRODUCED.discard("S01")
    Finding("S01", Severity.ERROR, "x")
    assert "S01" in conftest.PRODUCED


def test_the_catalogue_check_names_what_is_missing_or_unknown_and_only_on_a_whole_suite_run():
    every = set(CATALOGUE)
    assert conftest.catalogue_gaps(every, EVERY_MODULE, set()) == []
    assert conftest.catalogue_gaps(every - {"V05"}, EVERY_MODULE, set()) == ["V05"]
    assert conftest.catalogue_gaps(every | {"Z99"}, EVERY_MODULE, set()) == ["Z99"]
    assert conftest.catalogue_gaps(set(), EVERY_MODULE - {"test_check.py"}, set()) is None  # part of the suite
    assert conftest.catalogue_gaps(set(), EVERY_MODULE, {"tests/test_check.py::x"}) is None  # -k
