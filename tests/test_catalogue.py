"""The check that the suite covers the finding catalogue (conftest runs it at the end of a whole-suite run), and the
public hook it records the findings by."""

import pickle
from pathlib import Path

from libstats.model.findings import CATALOGUE, Finding, Severity, make, watch_findings

from . import catalogue

EVERY_MODULE = {p.name for p in Path(__file__).parent.glob("test_*.py")}


def test_a_finding_made_or_received_from_another_process_is_seen_by_a_watcher():
    seen = []
    stop = watch_findings(seen.append)
    try:
        make("S01", file="a.xlsx")
        received = pickle.loads(pickle.dumps(Finding("V05", Severity.ERROR, "x", cell="B2")))
    finally:
        stop()
    Finding("S02", Severity.ERROR, "after")  # no longer watched
    assert [f.code for f in seen] == ["S01", "V05", "V05"]  # made, pickled (made), unpickled (received)
    assert seen[-1] == received and received.cell == "B2"
    assert "S01" in catalogue.PRODUCED  # the session's own record watches too


def test_the_catalogue_check_names_what_is_missing_or_unknown_and_only_on_a_whole_suite_run():
    every = set(CATALOGUE)
    assert catalogue.catalogue_gaps(every, EVERY_MODULE, set()) == []
    assert catalogue.catalogue_gaps(every - {"V05"}, EVERY_MODULE, set()) == ["V05"]
    assert catalogue.catalogue_gaps(every | {"Z99"}, EVERY_MODULE, set()) == ["Z99"]
    assert catalogue.catalogue_gaps(set(), EVERY_MODULE - {"test_check.py"}, set()) is None  # part of the suite
    assert catalogue.catalogue_gaps(set(), EVERY_MODULE, {"tests/test_check.py::x"}) is None  # -k
