"""A check worker sends its result back packed (values in the form's order, only moved sources): the parent
must get exactly what checking in process gives, for every shape of result."""

from __future__ import annotations

import pickle

from libstats.checks import batch
from libstats.checks.batch import check_many
from libstats.model.spec import default_spec

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
    packed = {r.display: batch._packed(r, default_spec()) for r in here}
    assert isinstance(packed[files[0][1]], batch._Packed)  # the common result is packed: no field id in it
    assert b"luot_tl_tinh_n" in pickle.dumps(here[0]) and b"luot_tl_tinh_n" not in pickle.dumps(packed[files[0][1]])
    moved = packed[files[SHAPES.index("row inserted")][1]]
    assert isinstance(moved, batch._Packed) and moved.moved  # a moved name travels as its own source
    renamed = here[SHAPES.index("sheet renamed")]
    assert renamed.sources["luot_tl_tinh_n"][0] == "So lieu"
    assert not isinstance(packed[files[SHAPES.index("zip bomb")][1]], batch._Packed)  # no values: sent as it is
