"""The reader's memo of parts (``MEMO``): a part met again gives what reading it afresh gives.

Every hostile file, every case of tests/xmlcases.py and a filled return are read with the memo emptied (a miss)
and again (a hit: the same bytes), and both must equal each other and the full parser; a hit shares no state
between two files, the cells a remembered sheet holds still count against the budget, and the memo stays
within its bound.
"""

from __future__ import annotations

import pytest

from libstats.checks.check import check_file
from libstats.intake.xlsx import MEMO, Limits, PartMemo, XlsxError, open_xlsx, read_cells
from tests import corpus as c
from tests.hostile import CASES
from tests.xmlcases import MAIN, REL, build, cases, outcome, part_cases, row2, sheet, workbook

XML_CASES = cases()
PARTS = part_cases()


def _seen(res) -> tuple:
    return res.verdict, res.findings, res.values, res.province


@pytest.mark.parametrize("name, kind, maker, fate", CASES, ids=[c[0] for c in CASES])
def test_a_hostile_file_checked_from_the_memo_gets_what_it_gets_afresh(tmp_path, name, kind, maker, fate):
    path = maker(tmp_path)
    MEMO.clear()
    first = _seen(check_file(path, year=2024))
    again = _seen(check_file(path, year=2024))
    assert again == first
    assert first[0] == fate.verdict


def test_a_filled_return_is_read_from_the_memo_the_second_time(tmp_path):
    """Not vacuous: the second check of the same bytes takes its workbook part and sheets from the memo."""
    path = c.filled(tmp_path / "ok.xlsx")
    MEMO.clear()
    first = _seen(check_file(path, year=2024))
    assert MEMO.hits == 0 and MEMO.misses > 10
    again = _seen(check_file(path, year=2024))
    assert MEMO.hits > 10 and again == first and first[1] == check_file(path, year=2024).findings


@pytest.mark.parametrize("case", XML_CASES, ids=[c.name for c in XML_CASES])
def test_a_cell_read_from_the_memo_equals_the_full_parsers(case):
    MEMO.clear()
    miss = outcome(case.data, True)
    assert outcome(case.data, True) == miss == outcome(case.data, False)


@pytest.mark.parametrize("case", PARTS, ids=[c.name for c in PARTS])
def test_names_and_sheets_read_from_the_memo_equal_the_full_parsers(case):
    def seen(fast: bool):
        try:
            wb = open_xlsx(case.data, fast=fast)
        except XlsxError as exc:
            return exc.code, exc.detail
        return wb.names, wb.custom, [(s.name, s.path, s.state) for s in wb.sheets]
    MEMO.clear()
    miss = seen(True)
    assert seen(True) == miss == seen(False)


def test_a_hit_shares_no_state_between_two_files(tmp_path):
    data = c.filled(tmp_path / "ok.xlsx").read_bytes()
    MEMO.clear()
    one = open_xlsx(data)
    wanted = {s.name: {"B2", "B9"} for s in one.sheets}
    read_cells(one, wanted)
    merged = {s.name: list(s.merged) for s in one.sheets}
    assert any(merged.values())
    one.names["x"] = "'Bìa'!$A$1"
    for s in one.sheets:
        s.merged.append("Z1:Z2")
        s.name += "?"
    two = open_xlsx(data)
    read_cells(two, wanted)
    assert MEMO.hits > 0 and "x" not in two.names
    assert {s.name: s.merged for s in two.sheets} == merged


def _twice_the_same_sheet() -> bytes:
    """Two sheets whose parts are the same bytes (both point to one part): two cells each."""
    wb = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/>'
          '<sheet name="T" sheetId="2" r:id="rId1"/></sheets></workbook>')
    return build(sheet(row2('<c r="B2"><v>5</v></c>')), workbook=wb)


@pytest.mark.parametrize("cap, refused", [(3, True), (4, False)])
def test_the_cells_of_a_remembered_sheet_count_against_the_budget(cap, refused):
    data, wanted = _twice_the_same_sheet(), {"S": {"B2"}, "T": {"B2"}}
    seen = []
    for fast in (True, False):
        MEMO.clear()
        try:
            seen.append(read_cells(open_xlsx(data, Limits(max_cells=cap), fast=fast), wanted))
        except XlsxError as exc:
            seen.append((exc.code, exc.detail))
    assert seen[0] == seen[1]
    assert (seen[0] == ("F06", "quá nhiều ô")) is refused
    if not refused:
        assert MEMO.hits == 0 and seen[0][("T", "B2")].value == 5.0  # the full parser never uses the memo


def test_the_memo_stays_within_its_bound():
    memo = PartMemo(max_bytes=8000)
    for i in range(100):
        memo.put(("part", i), 600, (i,))
        assert memo.held <= 8000
    assert memo.get(("part", 99)) == (99,) and memo.get(("part", 0)) is None
    memo.put(("big", 0), 1001, ("too big to hold",))
    assert memo.get(("big", 0)) is None
    memo.clear()
    assert memo.held == 0 and memo.get(("part", 99)) is None


_BLOCK = '<definedName name="f_a">S!$B$2</definedName><definedName name="f_b">S!$B$3</definedName>'


def _names_of(workbook_xml: str, fast: bool, limits: Limits):
    try:
        return open_xlsx(build(sheet(row2("")), workbook=workbook_xml), limits, fast=fast).names
    except XlsxError as exc:
        return exc.code, exc.detail


@pytest.mark.parametrize("cap", [2, 3])
def test_a_names_block_remembered_from_another_workbook_reads_as_the_full_parser(cap):
    """Workbooks that differ but share their definedNames block byte for byte: the second takes the block from
    the memo; a name before the block still counts against the cap."""
    limits = Limits(max_names=cap)
    alone = workbook(_BLOCK)
    stray = alone.replace("<sheets>", '<definedName name="f_c">S!$B$4</definedName><sheets>')
    MEMO.clear()
    assert _names_of(alone, True, limits) == _names_of(alone, False, limits) == {"f_a": "S!$B$2", "f_b": "S!$B$3"}
    hits = MEMO.hits
    fast, full = _names_of(stray, True, limits), _names_of(stray, False, limits)
    assert MEMO.hits > hits and fast == full
    assert (fast == ("F06", "quá nhiều tên (defined names)")) is (cap == 2)
