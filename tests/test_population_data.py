"""The shipped population data (libstats/data/population.csv) is whole, cited and plausible: every code is on
its list, one row per province and year, persons within bounds, sorted, and never more people than the
country has (the 2004-list sum within 1% of the national total once a year is complete)."""

from __future__ import annotations

import csv
import re
import unicodedata
from collections import defaultdict
from importlib import resources

import pytest

from libstats.model.provinces import code_list_for_year, components, provinces_for_year

HEADER = ["code_list", "code", "year", "population", "source"]
LOW, HIGH = 200_000, 15_000_000  # Bắc Kạn, the smallest province, ~0.33 million; Hồ Chí Minh 2025 ~14 million
# National average population published by the statistics office (cited in libstats/data/SOURCES.md), in persons,
# to the precision published (0.1 million):
NATIONAL = {2023: 100_300_000, 2024: 101_300_000, 2025: 102_300_000}


def _rows() -> list[dict]:
    text = resources.files("libstats.data").joinpath("population.csv").read_text(encoding="utf-8")
    reader = csv.DictReader(text.splitlines())
    assert reader.fieldnames == HEADER
    return list(reader)


def _codes(code_list: str) -> set[str]:
    year = {"2004": 2024, "2025": 2025}[code_list]
    assert code_list_for_year(year) == code_list
    return {p.code for p in provinces_for_year(year)}


def test_every_row_is_a_province_of_its_list_once_in_persons_within_bounds():
    rows = _rows()
    assert rows, "population.csv has no figures"
    keys = [(r["code_list"], r["code"], int(r["year"])) for r in rows]
    assert len(set(keys)) == len(keys), "a province and year given twice"
    assert keys == sorted(keys), "rows not sorted by code_list, code, year"
    codes = {lst: _codes(lst) for lst in ("2004", "2025")}
    for r, (lst, code, year) in zip(rows, keys, strict=True):
        assert lst in codes and code in codes[lst], f"{lst}:{code} is not on its code list"
        assert re.fullmatch(r"\d{2}", code), f"{lst}:{code}: two digits"
        assert 2015 <= year <= 2030
        assert re.fullmatch(r"[1-9]\d*", r["population"]), f"{lst}:{code} {year}: persons, no separators"
        assert LOW <= int(r["population"]) <= HIGH, f"{lst}:{code} {year}: {r['population']} implausible"
        assert lst == "2004" or year >= 2025, f"{lst}:{code} {year}: the 2025 list starts in 2025"
        assert lst == "2025" or year <= 2025, f"{lst}:{code} {year}: the 2004 list ends in 2025"


def test_every_figure_cites_where_it_was_read_and_its_precision():
    for r in _rows():
        src = r["source"]
        where = f"{r['code_list']}:{r['code']} {r['year']}"
        assert src == unicodedata.normalize("NFC", src) and len(src) > 30, where
        assert "http" in src or "trang" in src, f"{where}: the source names no page or address"
        unit = re.search(r"đơn vị: (nghìn người|người)$", src)
        assert unit, f"{where}: the source must end with its unit, 'đơn vị: người' or 'đơn vị: nghìn người'"
        if unit[1] == "nghìn người":  # 8.587,1 nghìn người is stored 8587100, never a figure finer than that
            assert int(r["population"]) % 100 == 0, f"{where}: thousands with one decimal end in 00"


def test_a_province_changes_little_from_one_year_to_the_next():
    series = defaultdict(dict)
    for r in _rows():
        series[(r["code_list"], r["code"])][int(r["year"])] = int(r["population"])
    for key, by_year in series.items():
        for year, n in by_year.items():
            if year - 1 in by_year:  # a misread digit shows as a jump; real growth is under 5% a year
                assert abs(n / by_year[year - 1] - 1) < 0.05, (key, year)


def test_provinces_never_sum_to_more_than_the_country_and_a_complete_year_matches_it():
    totals, counts = defaultdict(int), defaultdict(int)
    for r in _rows():
        if r["code_list"] == "2004":
            totals[int(r["year"])] += int(r["population"])
            counts[int(r["year"])] += 1
    for year, total in totals.items():
        if year in NATIONAL:
            assert total <= NATIONAL[year] * 1.01, year
            if counts[year] == len(_codes("2004")):
                assert total == pytest.approx(NATIONAL[year], rel=0.01), year


def test_a_new_province_given_directly_agrees_with_the_provinces_it_was_made_of():
    table = {(r["code_list"], r["code"], int(r["year"])): int(r["population"]) for r in _rows()}
    for (lst, code, year), n in table.items():
        parts = [table.get(("2004", old, year)) for old in components(code)] if lst == "2025" else []
        if parts and all(v is not None for v in parts):
            assert n == pytest.approx(sum(parts), rel=0.01), (code, year)
