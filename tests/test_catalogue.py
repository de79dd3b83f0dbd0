"""Every code of the finding catalogue is produced by some test of the suite (conftest records them)."""

from pathlib import Path

import pytest

from libstats.findings import CATALOGUE

from . import conftest


def test_every_finding_code_is_produced_by_some_test():
    modules = {p.name for p in Path(__file__).parent.glob("test_*.py")}
    if modules - conftest.COLLECTED["modules"] or conftest.COLLECTED["deselected"]:
        pytest.skip("only meaningful when the whole suite runs")
    missing = sorted(set(CATALOGUE) - conftest.PRODUCED)
    assert not missing, f"finding codes no test produces (add a case, or remove the code): {missing}"
    assert conftest.PRODUCED <= set(CATALOGUE)
