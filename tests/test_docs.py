"""The generated docs are current, and the README's commands are the ones the project runs."""

import difflib
from pathlib import Path

from libstats.docs import generated_docs

ROOT = Path(__file__).resolve().parents[1]


def test_generated_docs_are_current():
    stale = {}
    for rel, text in generated_docs().items():
        old = (ROOT / rel).read_text(encoding="utf-8") if (ROOT / rel).exists() else ""
        if old != text:
            stale[rel] = "".join(list(difflib.unified_diff(old.splitlines(True), text.splitlines(True)))[:12])
    assert not stale, f"regenerate with `python -m libstats.docs`: {stale}"


def test_every_finding_code_is_documented():
    text = (ROOT / "docs" / "finding-codes.md").read_text(encoding="utf-8")
    from libstats.model.findings import CATALOGUE
    assert all(f"| {code} |" in text for code in CATALOGUE)


def test_readme_first_screen_has_the_two_setup_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:40]
    commands = [line.strip() for line in readme if line.strip().startswith("pip install")]
    assert len(commands) == 2
    assert "libstats demo" in commands[0] and "pytest" in commands[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci
