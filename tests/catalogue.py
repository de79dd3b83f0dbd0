"""The record of the finding codes a test session produces, through ``libstats.model.findings.watch_findings``
(findings made in the test processes, and those received from worker processes), and the check that a
whole-suite run covers the catalogue. A helper module of conftest.py and test_catalogue.py, not a test file."""

from __future__ import annotations

from pathlib import Path

from libstats.model import findings

HERE = Path(__file__).parent
PRODUCED: set[str] = set()  # the codes made in this process or received from a worker process
COLLECTED: dict[str, set] = {"modules": set(), "deselected": set()}


def record() -> None:
    """Record every finding made from now on (once per process)."""
    if not getattr(record, "started", False):
        findings.watch_findings(lambda finding: PRODUCED.add(finding.code))
        record.started = True


def catalogue_gaps(produced: set[str], modules: set[str], deselected: set[str]) -> list[str] | None:
    """The catalogue's codes no test produced; None when the run was not the whole suite (nothing to say)."""
    every_module = {p.name for p in HERE.glob("test_*.py")}
    if every_module - modules or deselected:
        return None
    return sorted(set(findings.CATALOGUE) - produced) + sorted(produced - set(findings.CATALOGUE))
