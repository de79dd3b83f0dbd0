"""The reader's byte-search fast path against the full XML parser, over a corpus built by code.

Each case of tests/xmlcases.py is read twice: as the checker reads it (the fast path where the part has the
plain shape) and with every part given to the full parser. Both must give the same outcome, and that outcome
must be what LibreOffice shows (the value in the case table; tests/test_libreoffice_reader.py measures it).
"""

from __future__ import annotations

import pytest

from libstats.xlsx import XlsxError, open_xlsx, parse_number, read_cells
from tests.xmlcases import CELL, REFUSED, cases, part_cases


def outcome(data: bytes, fast: bool):
    """What the reader makes of S!B2: a value, None (empty), or ('refused'|'invalid', detail)."""
    try:
        wb = open_xlsx(data, fast=fast)
        cell = read_cells(wb, {CELL[0]: {CELL[1]}}).get(CELL)
    except XlsxError as exc:
        return ("refused", exc.code)
    if cell is None:
        return None
    if cell.invalid is not None:
        return ("invalid", cell.invalid)
    return cell.error or cell.value


CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fast_path_equals_full_parser_and_what_libreoffice_shows(case):
    fast, full = outcome(case.data, True), outcome(case.data, False)
    assert fast == full
    if case.shown == REFUSED:
        assert isinstance(fast, tuple) and fast[0] in ("refused", "invalid"), fast
    else:
        assert fast == case.shown and type(fast) is type(case.shown)


PARTS = part_cases()


@pytest.mark.parametrize("case", PARTS, ids=[c.name for c in PARTS])
def test_names_properties_and_sheet_states_equal_in_both_parsers(case):
    seen = []
    for fast in (True, False):
        wb = open_xlsx(case.data, fast=fast)
        seen.append((wb.names, wb.custom, {s.name: s.state for s in wb.sheets}))
    assert seen[0] == seen[1]
    assert seen[0] == (case.names, case.custom, case.states)


def test_a_dtd_refuses_the_file_in_every_part():
    from tests.xmlcases import _HEAD, build, properties, sheet, workbook
    dtd = _HEAD + '<!DOCTYPE x [<!ENTITY e "5">]>'
    for data in (build(sheet("", head=dtd)), build(sheet(""), workbook=workbook("", head=dtd)),
                 build(sheet(""), custom=properties("", head=dtd))):
        with pytest.raises(XlsxError) as err:
            read_cells(open_xlsx(data), {"S": {"B2"}})
        assert err.value.code == "F03"


@pytest.mark.parametrize("raw, value", [("1E3", 1000.0), (" 5 ", 5.0), ("-0", 0.0), ("5.", 5.0), (".5", 0.5),
                                        ("1e-320", 1e-320), ("+7", 7.0), ("\t8\n", 8.0)])
def test_numbers_in_xml_schema_double_form_are_read(raw, value):
    assert parse_number(raw) == value
    assert str(parse_number("-0")) == "0.0"


@pytest.mark.parametrize("raw", ["5_78", "٥٧٨", "５", "NaN", "INF", "-INF", "inf", "1e400", "0x10", "1,5", "5 6",
                                 "", "e5", "1e", "--1", "١.٥"])
def test_python_only_or_non_finite_numbers_are_not_read(raw):
    assert parse_number(raw) is None
