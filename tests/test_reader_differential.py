"""The reader's byte-search fast path against the full XML parser, over a corpus built by code.

Each case of tests/xmlcases.py is read twice: as the checker reads it (the fast path where the part has the
plain shape) and with every part given to the full parser. Both must give the same outcome, and that outcome
must be what LibreOffice shows (the value in the case table; tests/test_libreoffice_reader.py measures it).
"""

from __future__ import annotations

import pytest

from libstats.intake.xlsx import XlsxError, open_xlsx, parse_number, read_cells
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


def _sheet_read(data: bytes, fast: bool):
    """The cells A2:C2 of S (value, formula, error, invalid), its protection and merges, or the refusal."""
    try:
        wb = open_xlsx(data, fast=fast)
        cells = read_cells(wb, {"S": {"A2", "B2", "C2"}})
    except XlsxError as exc:
        return ("refused", exc.code)
    s = wb.sheet("S")
    return {k: (c.value, c.formula, c.error, c.invalid) for k, c in cells.items()}, s.protected, s.merged


def _sheet_cases():
    from tests.xmlcases import MAIN, _v, build, row2, shared, sheet
    two = shared("<si><t>x</t></si>", "<si><t>a\r\nb</t></si>")
    prot = '<sheetProtection sheet="1" objects="1"/>'
    merges = '<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells>'
    valid = ('<dataValidations count="2"><dataValidation type="whole" sqref="B2"><formula1>0</formula1>'
             '</dataValidation><dataValidation type="custom" sqref="C2"><formula1>IF(C2&gt;=0,1,0)</formula1>'
             "</dataValidation></dataValidations>")
    return {
        "cr_shared_string": build(sheet(_v("1", ' t="s"')), two),
        "cr_inline": build(sheet(row2('<c r="B2" t="inlineStr"><is><t>a\r\nb</t></is></c>'))),
        "cr_str": build(sheet(row2('<c r="B2" t="str"><f>A1</f><v>a\rb</v></c>'))),
        "cell_after_sheetdata": build(sheet(_v("5"), end='<c r="B2"><v>9</v></c></worksheet>')),
        "second_sheetdata": build(sheet(_v("5"), end='<sheetData><row r="2"><c r="C2"><v>9</v></c></row>'
                                                     "</sheetData></worksheet>")),
        "protected_and_merged": build(sheet(_v("5"), end=prot + merges + "</worksheet>")),
        "protection_twice": build(sheet(_v("5"), end=prot + '<sheetProtection sheet="0"/></worksheet>')),
        "protection_in_head": build(sheet(_v("5"), root=f'<worksheet xmlns="{MAIN}">' + prot)),
        "merge_in_comment": build(sheet(_v("5"), end='<mergeCells count="1"><!-- <mergeCell ref="B2:C2"/> -->'
                                                     '<mergeCell ref="A1:B1"/></mergeCells></worksheet>')),
        "merges_twice": build(sheet(_v("5"), end=merges + '<mergeCells count="1"><mergeCell ref="C2:D2"/></mergeCells>'
                                                  "</worksheet>")),
        "merge_after_merges": build(sheet(_v("5"), end=merges + '<pageMargins left="0.7"/><mergeCell ref="C2:D2"/>'
                                                        "</worksheet>")),
        "merge_in_ext_after_merges": build(sheet(_v("5"), end=merges + '<extLst><ext uri="x"><mergeCell ref="B2:C2"/>'
                                                               "</ext></extLst></worksheet>")),
        "merges_unclosed": build(sheet(_v("5"), end='<mergeCells count="1"><mergeCell ref="A1:B1"/></worksheet>')),
        "merge_spelled_otherwise": build(sheet(_v("5"), end='<mergeCells count="2"><mergeCell ref="A1:B1"/>'
                                                            '<mergeCell  ref="C2:D2" /></mergeCells></worksheet>')),
        "protection_after_merges": build(sheet(_v("5"), end=merges + prot + "</worksheet>")),
        "protection_cdata_in_tail": build(sheet(_v("5"), end=prot + '<headerFooter><oddFooter><![CDATA[&P]]>'
                                                               "</oddFooter></headerFooter></worksheet>")),
        "validations_plain": build(sheet(_v("5"), end=prot + valid + merges + "</worksheet>")),
        "validations_plain_again": build(sheet(_v("5"), end=prot + valid + merges + "  </worksheet>")),
        "validations_then_cell": build(sheet(_v("5"), end=prot + valid + '<c r="B2"><v>9</v></c></worksheet>')),
        "validations_then_comment": build(sheet(_v("5"), end=valid + "<!-- x --></worksheet>")),
        "validations_then_unclosed": build(sheet(_v("5"), end=valid + '<pageMargins left="0.7"></worksheet>')),
        "validations_holding_a_cell": build(sheet(_v("5"), end=valid.replace("</dataValidations>",
                                                                             '<c r="B2"><v>9</v></c></dataValidations>')
                                                  + "</worksheet>")),
        "validations_holding_a_comment": build(sheet(_v("5"), end=valid.replace("<formula1>", "<!-- -->") + merges
                                                     + "</worksheet>")),
        "validations_unbalanced": build(sheet(_v("5"), end=valid.replace("</formula1>", "") + "</worksheet>")),
        "validations_holding_protection": build(sheet(_v("5"), end=valid.replace("</dataValidations>", prot
                                                                                 + "</dataValidations>")
                                                      + "</worksheet>")),
        "validations_holding_merges": build(sheet(_v("5"), end=valid.replace("</dataValidations>", merges
                                                                             + "</dataValidations>")
                                                  + "</worksheet>")),
        "validations_after_a_stray_lt": build(sheet(_v("5"), end="<" + valid + 'sheetProtection sheet="1"/>'
                                                                  "</worksheet>")),
        "validations_then_text": build(sheet(_v("5"), end=valid + 'x<sheetProtection sheet="1"/></worksheet>')),
        "validations_nested": build(sheet(_v("5"), end=valid.replace("<dataValidation ", "<dataValidations>"
                                                                     "<dataValidation ", 1) + "</dataValidations>"
                                          + "</worksheet>")),
        "unclosed_and_empty_lookalike_in_text": build(sheet(_v("5"), end='<pageMargins left="0.7"><headerFooter>'
                                                                        "<oddFooter>a/></oddFooter></headerFooter>"
                                                                        "</worksheet>")),
        "unclosed_with_empty_lookalike_in_value": build(sheet(_v("5"), end='<pageSetup paperSize="/>">'
                                                                          "</worksheet>")),
        "empty_with_lookalikes_in_values": build(sheet(_v("5"), end=prot + '<pageSetup a="/>" b=">"/>'
                                                                   "</worksheet>")),
        "validations_with_namespace": build(sheet(_v("5"), end=valid.replace("<dataValidations ",
                                                                             f'<dataValidations xmlns="{MAIN}" ')
                                                  + "</worksheet>")),
        "unclosed_in_tail": build(sheet(_v("5"), end='<pageMargins left="0.7"></worksheet>')),
        "empty_then_its_end_again_as_text": build(sheet(_v("5"), end=prot + '<pageSetup paperSize="9"/>/>'
                                                                   '<pageMargins left="0.7">/></worksheet>')),
        "empty_then_its_end_again_closed": build(sheet(_v("5"), end=prot + '<pageSetup paperSize="9"/>/>'
                                                                  "</worksheet>")),
        "formula_entities": build(sheet(row2('<c r="A2"><f>IF(B2&lt;&gt;0,1,2)</f><v>1</v></c><c r="B2"><v>5</v></c>'
                                             '<c r="C2" t="str"><f>"&amp;"</f><v>&amp;</v></c>'))),
        "inline_under_another_type": build(sheet(row2('<c r="B2" t="s"><is><t>x</t></is></c>'))),
        "empty_formula_and_value": build(sheet(row2('<c r="B2" t="str"><f/><v></v></c><c r="C2"><f></f></c>'))),
        "cell_in_foreign_tail": build(sheet(_v("5"), end='<extLst xmlns="urn:x"><c r="B2"><v>9</v></c></extLst>'
                                                         "</worksheet>")),
        "main_cell_prefixed_in_tail": build(sheet(_v("5"), end=f'<x:c xmlns:x="{MAIN}" r="B2"><x:v>9</x:v></x:c>'
                                                               "</worksheet>")),
        "unbalanced_rows": build(sheet(row2('<c r="B2"><v>5</v></c>') + "</row>")),
        "latin1_declared": build(sheet(row2('<c r="B2" t="inlineStr"><is><t>H\u00c3\u00a9</t></is></c>'),
                                       head='<?xml version="1.0" encoding="ISO-8859-1"?>\n').encode("latin-1")),
        "utf8_declared_single_quotes": build(sheet(row2('<c r="B2" t="str"><f>A1</f><v>Hu\u1ebf</v></c>'),
                                                   head="<?xml version='1.0' encoding='utf-8'?>\n")),
    }


SHEET_CASES = _sheet_cases()


@pytest.mark.parametrize("name", SHEET_CASES)
def test_cells_protection_and_merges_equal_in_both_parsers(name):
    assert _sheet_read(SHEET_CASES[name], True) == _sheet_read(SHEET_CASES[name], False)


def test_tails_sharing_their_validations_are_each_read_as_the_full_parser_reads_them():
    """The dataValidations element is remembered once checked: every case read again, in another order, after
    the others (each tail then meets an element already checked), gives what the full parser gives."""
    names = [n for n in SHEET_CASES if n.startswith("validations")]
    for name in [*names, *reversed(names)]:
        assert _sheet_read(SHEET_CASES[name], True) == _sheet_read(SHEET_CASES[name], False), name
    for name in ("validations_plain", "validations_plain_again"):  # read by the fast path, not sent to the other
        wb = open_xlsx(SHEET_CASES[name])
        read_cells(wb, {"S": {"B2"}})
        assert wb.plain["xl/worksheets/sheet1.xml"] is not None
        assert _sheet_read(SHEET_CASES[name], True)[1:] == (True, ["A1:B1"])


def test_the_one_pass_fast_path_reads_a_plain_sheet_itself():
    wb = open_xlsx(SHEET_CASES["protected_and_merged"])
    read_cells(wb, {"S": {"B2"}})
    assert wb.plain["xl/worksheets/sheet1.xml"] is not None  # not sent to the full parser
    assert _sheet_read(SHEET_CASES["protected_and_merged"], True) == ({("S", "B2"): (5.0, None, None, None)}, True,
                                                                      ["A1:B1"])


def test_parts_inflated_straight_from_the_archive_equal_what_zipfile_reads():
    import io
    import zipfile

    from libstats.intake.xlsx import Limits, _inflate, _part
    from tests.xmlcases import _v, build, sheet
    data = build(sheet(_v("5")))
    z = zipfile.ZipFile(io.BytesIO(data))
    for info in z.infolist():
        assert _inflate(z, info) == z.read(info.filename)  # taken, and equal

    def damaged(change) -> zipfile.ZipFile:
        raw = bytearray(data)
        info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
        change(raw, info)
        return zipfile.ZipFile(io.BytesIO(bytes(raw)))

    def flip_data(raw, info):  # a byte of the deflated data: a bad CRC or a broken stream
        raw[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF

    def rename_local(raw, info):  # the local header names another part
        raw[info.header_offset + 30] ^= 0x20

    for change in (flip_data, rename_local):
        z = damaged(change)
        info = z.getinfo("xl/worksheets/sheet1.xml")
        assert _inflate(z, info) is None  # zipfile reads it, and says what is wrong
        with pytest.raises(Exception):  # noqa: B017 - zipfile's own error (BadZipFile, zlib.error...)
            _part(z, info.filename, Limits())


def _names_both_ways(data: bytes) -> tuple[dict, dict]:
    return open_xlsx(data).names, open_xlsx(data, fast=False).names


@pytest.mark.parametrize("names_xml, shown", [
    # a name the block between the first '<definedName ' and the last '</definedName>' does not hold
    ('<definedName name="f_x">S!$B$2</definedName><definedName name="f_y"/>', {"f_x": "S!$B$2", "f_y": ""}),
    ('<definedName name="f_y"/><definedName name="f_x">S!$B$2</definedName>', {"f_x": "S!$B$2", "f_y": ""}),
    ('<definedName name="f_x">S!$B$2</definedName></definedNames><definedNames>'
     '<definedName name="f_y">S!$B$3</definedName>', {"f_x": "S!$B$2", "f_y": "S!$B$3"}),
    ('<definedName name="f_x">S!$B$2</definedName><definedName>S!$B$3</definedName>', None),  # refused
    # what the block holds besides definedName elements is read as the full parser reads it
    ('<definedName name="f_x">S!$B$2</definedName><!-- <definedName name="f_y">S!$B$9</definedName> -->'
     '<definedName name="f_z">S!$B$3</definedName>', {"f_x": "S!$B$2", "f_z": "S!$B$3"}),
    ('<definedName name="f_x">S!$B$2</definedName><sheet name="T" sheetId="2" r:id="rId9"/>'
     '<definedName name="f_z">S!$B$3</definedName>', {"f_x": "S!$B$2", "f_z": "S!$B$3"}),
    ('<definedName name="f_x">S!$B$2</definedName><definedName name="f_y" xmlns="urn:x">S!$B$9</definedName>',
     {"f_x": "S!$B$2"}),
    ('<definedName name="f_x">S!$B$2</definedName><definedName name="f_y">&#83;!$B$3</definedName>',
     {"f_x": "S!$B$2", "f_y": "S!$B$3"}),
    ('<definedName name="f_x">S!$B$2</definedName><definedName name = "f_y">S!$B$3</definedName>',
     {"f_x": "S!$B$2", "f_y": "S!$B$3"}),
    ('<definedName name="f_x">S!$B$2</definedName><definedName name="f_y"><![CDATA[S!$B$3]]></definedName>',
     {"f_x": "S!$B$2", "f_y": "S!$B$3"}),
    ('\n<definedName name="f_x">S!$B$2</definedName>\n', {"f_x": "S!$B$2"}),  # not set apart: checked whole
])
def test_defined_names_remembered_by_their_block_equal_the_full_parser(names_xml, shown):
    from tests.xmlcases import _v, build, sheet, workbook
    data = build(sheet(_v("5")), workbook=workbook(names_xml))
    if shown is None:
        for fast in (True, False):
            with pytest.raises(XlsxError):
                open_xlsx(data, fast=fast)
        return
    assert _names_both_ways(data) == (shown, shown)


def test_workbooks_sharing_only_their_names_block_share_the_names_and_each_reads_its_own_sheets():
    from libstats.intake import xlsx
    from tests.xmlcases import _v, build, sheet, workbook
    xlsx._WORKBOOKS.clear()  # a workbook part met in an earlier test would bring the names found then
    xlsx._NAMES.clear()
    names = '<definedName name="f_x">S!$B$2</definedName>'
    shown = workbook(names)
    hidden = workbook(names, '<sheet name="S" sheetId="1" state="hidden" r:id="rId1"/>')
    other = shown.replace("<definedNames>", '<calcPr calcId="1"/><definedNames>')  # the same block elsewhere
    books = [open_xlsx(build(sheet(_v("5")), workbook=w)) for w in (shown, hidden, other)]
    assert [b.sheet("S").state for b in books] == ["visible", "hidden", "visible"]
    assert books[0].names == {"f_x": "S!$B$2"} and books[0].names is books[1].names is books[2].names
    # a name the block does not hold is never taken from a block met before
    odd = open_xlsx(build(sheet(_v("5")), workbook=workbook(names + '<definedName name="f_y"/>')))
    assert odd.names == {"f_x": "S!$B$2", "f_y": ""}
