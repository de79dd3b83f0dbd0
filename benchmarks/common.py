"""Helpers for the benchmark scripts: filled sample returns, timing and peak memory."""

from __future__ import annotations

import resource
import time
from contextlib import contextmanager
from pathlib import Path

from libstats.model.form import build_form
from libstats.forms.template import write_templates
from libstats.model.provinces import provinces_for_year
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions


def make_returns(year: int, out: Path, copies: int = 1) -> list[Path]:
    """Filled sample returns of every province of ``year`` (``copies`` times over, for bigger batches)."""
    form = build_form(year)
    provinces = list(provinces_for_year(year))
    paths = write_templates(form, provinces, out / "c0",
                               prefill=lambda p: TemplateOptions(values=sample_values(form, p)))
    for i in range(1, copies):
        d = out / f"c{i}"
        d.mkdir(parents=True, exist_ok=True)
        for p in paths:
            (d / p.name).write_bytes(p.read_bytes())
    return sorted(out.rglob("*.xlsx"))


def peak_mb() -> tuple[float, float]:
    """Peak resident memory (MB) of this process and of its largest finished child."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


@contextmanager
def timed(label: str, results: dict):
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
