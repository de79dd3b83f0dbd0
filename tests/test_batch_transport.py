"""A check worker sends its result back through its pipe: the parent must get exactly what checking in process
gives, for every shape of result (values and sources in the form's order included)."""

from __future__ import annotations

from libstats.checks import batch
from libstats.checks.batch import check_many

from .test_check import MAKE

SHAPES = ["good", "unit typed", "text", "formula without value", "merged inputs", "row inserted", "sheet renamed",
          "name lost", "sheet deleted", "pasted copy", "older version", "other report", "unprotected", "zip bomb",
          "empty required"]


def test_results_from_workers_equal_the_results_checked_in_process(tmp_path):
    files = []
    for i, name in enumerate(SHAPES):
        folder = tmp_path / str(i)
        folder.mkdir()
        path = MAKE[name](folder)
        files.append((path, f"{i}/{path.name}"))
    here = check_many(files, year=2024, isolate=False)
    there = check_many(files, year=2024, limits=batch.WorkerLimits(jobs=2))
    assert [r.display for r in there] == [d for _, d in files]
    for a, b in zip(here, there, strict=True):
        assert a == b, a.display
        assert list(a.values.items()) == list(b.values.items())  # the same fields, in the same order
        assert list(a.sources.items()) == list(b.sources.items())
    renamed = there[SHAPES.index("sheet renamed")]
    assert renamed.sources["luot_tl_tinh_n"][0] == "So lieu"  # a moved name travels as its own source
