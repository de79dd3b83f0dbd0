"""Figures per inhabitant: population per province and year (data/population.csv), and the ratios the spec's
``[[per_inhabitant]]`` entries define, as plain functions over the tidy data.

Population is kept on the code list it was published on. A 2025-list province without its own figure gets the
sum of the 2004-list provinces it was made of (every merger is a whole-province merger), never a partial sum.
"""

from __future__ import annotations

import csv
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from libstats.model.provinces import Province, components
from libstats.model.spec import PerInhabitant

if TYPE_CHECKING:  # pandas only for the frames (the collection's server checks B02 without it)
    import pandas as pd

__all__ = ["population", "population_table", "per_inhabitant", "per_inhabitant_frame"]


@cache
def population_table() -> dict[tuple[str, str, int], int]:
    """The shipped population data (data/population.csv) as {(code list, province code, year): people}; every
    lookup without a table of its own goes through this function."""
    text = resources.files("libstats.data").joinpath("population.csv").read_text(encoding="utf-8")
    return {(r["code_list"], r["code"].zfill(2), int(r["year"])): int(r["population"])
            for r in csv.DictReader(text.splitlines())}


def population(code_list: str, code: str, year: int, table: dict | None = None) -> int | None:
    """Average population of a province in ``year`` (GSO), or None when it is not in the data."""
    table = population_table() if table is None else table
    direct = table.get((code_list, code, year))
    if direct is not None or code_list != "2025":
        return direct
    parts = [table.get(("2004", old, year)) for old in components(code)]
    return sum(parts) if parts and all(v is not None for v in parts) else None


def _missing(v) -> bool:
    """None, NaN, NaT or pandas' NA (whose comparison is neither true nor false)."""
    try:
        return v is None or bool(v != v)
    except TypeError:
        return True


def per_inhabitant(figure, people: int | None, per: int = 1) -> float | None:
    """``figure`` × ``per`` ÷ ``people``; None when either is missing or the population is 0."""
    if _missing(figure) or not people:
        return None
    return float(figure) * per / people


def per_inhabitant_frame(tidy: pd.DataFrame, ratio: PerInhabitant, provinces: list[Province], year: int,
                         table: dict | None = None) -> pd.DataFrame:
    """One row per province: the figure (sum of the ratio's indicators in its dimension; missing if any part is),
    the population and the ratio, for ``year`` and ``year - 1``. The summary's province tables, rankings and the
    outlier checks read this."""
    import pandas as pd

    sel = tidy[tidy["indicator"].isin(ratio.sum) & (tidy["dim"] == ratio.dim)]
    parts: dict[tuple, list] = {}
    for code, y, value in zip(sel["province_code"], sel["year"], sel["value"], strict=True):
        parts.setdefault((code, y), []).append(value)
    rows = []
    for p in provinces:
        row = {"province_code": p.code, "code_list": p.code_list, "province_name": p.name, "region": p.region}
        for col, y in (("n", year), ("p", year - 1)):
            vals = parts.get((p.code, y), [])
            figure = sum(vals) if len(vals) == len(ratio.sum) and not any(pd.isna(v) for v in vals) else None
            people = population(p.code_list, p.code, y, table)
            row.update({f"figure_{col}": figure, f"population_{col}": people,
                        f"ratio_{col}": per_inhabitant(figure, people, ratio.per)})
        rows.append(row)
    return pd.DataFrame(rows)
