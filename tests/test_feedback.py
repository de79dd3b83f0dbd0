"""Feedback copies: the province's own file with a first sheet "Phản hồi" listing the findings.

The usual writer edits the file's ZIP (every other part copied unchanged); files in a shape it does not handle
with certainty go to the openpyxl writer. Both must show the same sheet, in openpyxl and in LibreOffice."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest

from libstats.checks.check import OUTPUT_PROPERTY, SAVED_PROPERTY, check_file
from libstats.outputs.feedback import FEEDBACK_SHEET, write_feedback, write_feedbacks
from libstats.consolidation.ledger import Entry
from libstats.intake.reader import extract
from libstats.intake.xlsx import open_xlsx, read_cells

from . import corpus as c

EDITED = {"[Content_Types].xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml",
          "docProps/custom.xml"}


def _bad(path: Path) -> Path:
    """A return with an error (a total that is not the sum) and a warning, at cells of the data sheet."""
    return c.with_values(path, the_cap_moi_tong_n=1)


def _entry(path: Path) -> Entry:
    return Entry(check_file(path, year=2024), "chosen")


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def _by_zip(src: Path, out: Path) -> Path:
    made = write_feedback(_entry(src), out, writer="zip")
    assert made is not None, "the ZIP writer left the file to openpyxl"
    return made


def _by_openpyxl(src: Path, out: Path) -> Path:
    return write_feedback(_entry(src), out, writer="openpyxl")


def _zip_leaves(entry: Entry, tmp_path: Path) -> bool:
    """Whether the ZIP writer leaves the file to openpyxl (writing nothing)."""
    return write_feedback(entry, tmp_path / "by-zip.xlsx", writer="zip") is None and not (
        tmp_path / "by-zip.xlsx").exists()


def _assert_zip_path(src: Path, copy: Path) -> None:
    """Only the parts the feedback sheet needs differ; the new sheet is the one new part."""
    before, after = _parts(src), _parts(copy)
    [new] = set(after) - set(before)
    assert re.fullmatch(r"xl/worksheets/sheetFeedback\d+\.xml", new)
    changed = {n for n in before if after.get(n) != before[n]}
    if "xl/calcChain.xml" in before:  # dropped with its relationship and content type: Excel rebuilds it
        changed.discard("xl/calcChain.xml")
        assert "xl/calcChain.xml" not in after and b"calcChain" not in after["xl/_rels/workbook.xml.rels"]
        assert b"calcChain" not in after["[Content_Types].xml"]
    selected = {n for n, data in before.items() if n.startswith("xl/worksheets/") and re.search(
        rb'tabSelected="(1|true)"', data)}
    assert changed == EDITED | selected, changed ^ (EDITED | selected)
    for n in selected:  # the other sheets only lose their selection
        assert after[n] == re.sub(rb'(<sheetView\b[^<>]*?) tabSelected="(1|true)"', rb"\1", before[n])
    assert after["docProps/core.xml"] == before["docProps/core.xml"]


def _look(ws) -> dict:
    """What a person sees of the feedback sheet: texts, fonts, fills, borders, alignment, sizes, links, print."""
    def rgb(color):
        return color.rgb[-6:] if color is not None and isinstance(color.rgb, str) else None
    cells = {}
    for row in ws.iter_rows():
        for cl in row:
            if cl.value is None:
                continue
            f = cl.font
            cells[cl.coordinate] = (cl.value, cl.data_type, f.name, bool(f.b), f.sz, rgb(f.color), f.u,
                                    rgb(cl.fill.fgColor) if cl.fill.fill_type else None, cl.border.left.style,
                                    rgb(cl.border.left.color), cl.alignment.vertical, bool(cl.alignment.wrap_text))
    return {"cells": cells, "links": {cl.coordinate: (cl.hyperlink.location, cl.hyperlink.display)
                                      for row in ws.iter_rows() for cl in row if cl.hyperlink},
            "widths": {k: d.width for k, d in ws.column_dimensions.items() if d.customWidth},
            "heights": {k: d.height for k, d in ws.row_dimensions.items() if d.height},
            "freeze": ws.freeze_panes, "titles": (ws.print_title_rows or "").replace("$", ""),
            "paper": ws.page_setup.paperSize,
            "orientation": ws.page_setup.orientation, "fit": (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight,
                                                              ws.sheet_properties.pageSetUpPr.fitToPage)}


def _names(wb) -> tuple[dict, dict]:
    """The workbook's global names, and each sheet's own names, by sheet name."""
    own = {ws.title: {n: d.attr_text for n, d in ws.defined_names.items()} for ws in wb.worksheets}
    return {n: d.attr_text for n, d in wb.defined_names.items()}, own


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    return _bad(tmp_path_factory.mktemp("fb") / "bao-cao-thu-vien-2024_01_ha-noi.xlsx")


def test_a_libstats_form_gets_the_zip_copy_with_every_other_part_unchanged(bad, tmp_path):
    out = write_feedback(_entry(bad), tmp_path / "fb" / "a_phan-hoi.xlsx")
    _assert_zip_path(bad, out)
    # the copy is libstats' output while nobody has saved it: set aside, with the original's saved time
    res = check_file(out, year=2024)
    assert [f.code for f in res.findings] == ["F11"]
    original, copy = open_xlsx(bad.read_bytes()), open_xlsx(out.read_bytes())
    assert copy.modified == original.modified != ""
    assert copy.custom == {**original.custom, OUTPUT_PROPERTY: "feedback", SAVED_PROPERTY: original.modified}


def _saved_by_openpyxl(src: Path, dst: Path) -> Path:
    """The return opened and saved by openpyxl (it binds the relationships and vt prefixes on each element)."""
    openpyxl.load_workbook(src).save(dst)
    return dst


_MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
_X14AC = 'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'


def _excel_like(src: Path, dst: Path) -> Path:
    """The namespaces and extension markup Excel writes around the same content."""
    def edit(name: str, text: str) -> str:
        if name == "xl/styles.xml":
            text = text.replace("<styleSheet ", f'<styleSheet {_MC} mc:Ignorable="x14ac" {_X14AC} ', 1)
            text = re.sub(r'<fonts count="(\d+)">', r'<fonts count="\1" x14ac:knownFonts="1">', text)
        elif name == "xl/workbook.xml":
            text = text.replace("<workbook ", f'<workbook {_MC} mc:Ignorable="x15" ', 1).replace(
                "<bookViews>", '<mc:AlternateContent><mc:Choice Requires="x15"><x15ac:absPath url="C:\\bao-cao\\" '
                'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/></mc:Choice>'
                "</mc:AlternateContent><bookViews>")
        elif name.startswith("xl/worksheets/"):
            text = text.replace('<sheetView tabSelected="1"',
                                '<sheetView showGridLines="0" tabSelected="1" zoomScale="85"')
        return text
    # Excel's calculation chain (it names sheets by their id)
    return c.add_part(src, dst, "xl/calcChain.xml", b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                      b'<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><c r="E20" i="6"/>'
                      b"</calcChain>", "calcChain", edit)


@pytest.mark.parametrize("shape", [_saved_by_openpyxl, _excel_like], ids=["openpyxl", "excel-like"])
def test_returns_saved_by_other_programs_get_the_zip_copy_and_read_the_same(bad, tmp_path, shape):
    src = shape(bad, tmp_path / "tra-ve.xlsx")
    out = _by_zip(src, tmp_path / "fb.xlsx")
    _assert_zip_path(src, out)
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == [FEEDBACK_SHEET, *openpyxl.load_workbook(src).sheetnames]
    assert wb.active.title == FEEDBACK_SHEET and not any(s.sheet_view.tabSelected for s in wb.worksheets[1:])
    assert [f.code for f in check_file(out, year=2024).findings] == ["F11"]
    assert (extract(open_xlsx(out.read_bytes()), c.FORM, "fb.xlsx").values
            == extract(open_xlsx(src.read_bytes()), c.FORM, "tra-ve.xlsx").values)


@pytest.mark.parametrize("writer", [_by_zip, _by_openpyxl])
def test_the_copy_opens_in_openpyxl_with_the_feedback_sheet_first_alone_selected_and_linked(bad, tmp_path, writer):
    entry = _entry(bad)
    out = writer(bad, tmp_path / "fb.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert ws.title == FEEDBACK_SHEET and wb.active.title == FEEDBACK_SHEET
    assert not any(s.sheet_view.tabSelected for s in wb.worksheets[1:])  # two selected tabs = grouped sheets
    look = _look(ws)
    findings = [f for sev in ("error", "warning", "info") for f in entry.findings if f.severity.value == sev]
    assert len(findings) >= 2
    assert look["cells"]["A1"][0] == "KẾT QUẢ KIỂM TRA TỆP: bao-cao-thu-vien-2024_01_ha-noi.xlsx"
    assert [look["cells"][f"C{6 + i}"][0] for i in range(len(findings))] == [f.code for f in findings]
    assert [look["cells"][f"E{6 + i}"][0] for i in range(len(findings))] == [f.message for f in findings]
    assert look["links"] == {f"D{6 + i}": (f"'{f.sheet}'!{f.cell}", f"{f.sheet} · {f.cell}")
                             for i, f in enumerate(findings)}
    assert {v[2] for v in look["cells"].values()} == {"Times New Roman"}
    assert look["cells"]["A1"][3:5] == (True, 13) and look["cells"]["D6"][5:7] == ("0000FF", "single")
    assert look["cells"]["B6"][7] == "F8CBAD" and look["cells"]["A5"][7] == "D9E2F3"
    assert look["widths"] == {"A": 5, "B": 14, "C": 7, "D": 30, "E": 90}
    assert look["freeze"] == "A6" and look["titles"] == "5:5"
    assert (look["paper"], look["orientation"], look["fit"]) in ((9, "landscape", (1, 0, True)),
                                                                 ("9", "landscape", (1, 0, True)))
    # the province's names (print areas, filters) still point at the same sheets
    assert _names(wb)[0] == _names(openpyxl.load_workbook(bad))[0]
    assert {k: v for k, v in _names(wb)[1].items() if k != FEEDBACK_SHEET} == _names(openpyxl.load_workbook(bad))[1]


def test_both_writers_show_the_same_sheet(bad, tmp_path):
    a = openpyxl.load_workbook(_by_zip(bad, tmp_path / "zip.xlsx"))
    b = openpyxl.load_workbook(_by_openpyxl(bad, tmp_path / "openpyxl.xlsx"))
    assert _look(a.worksheets[0]) == _look(b.worksheets[0])
    assert a.sheetnames == b.sheetnames


@pytest.mark.parametrize("writer", [_by_zip, _by_openpyxl])
def test_texts_from_the_file_stay_text_exactly(tmp_path, writer):
    name = "=1+1 <b>&amp; _x0041_ \x07 'quote\".xlsx"
    src = _bad(tmp_path / name)
    out = writer(src, tmp_path / "fb.xlsx")
    wb = open_xlsx(out.read_bytes())
    [cell] = read_cells(wb, {FEEDBACK_SHEET: {"A1"}}).values()
    assert cell.value == "KẾT QUẢ KIỂM TRA TỆP: " + name.replace("\x07", "\\x07") and cell.formula is None
    assert "\\x07" in cell.value and "_x0041_" in cell.value
    assert openpyxl.load_workbook(out).worksheets[0]["A1"].data_type == "s"


def test_an_existing_stamp_is_replaced_and_missing_custom_properties_are_created(bad, tmp_path):
    stale = c.edit_part(bad, tmp_path / "stale.xlsx", "docProps/custom.xml", lambda x: x.replace(
        "</Properties>", '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="20" '
                         'name="libstats_saved"><vt:lpwstr>2000-01-01T00:00:00Z</vt:lpwstr></property></Properties>'))
    out = _by_zip(stale, tmp_path / "fb1.xlsx")
    custom = _parts(out)["docProps/custom.xml"]
    assert custom.count(b'name="libstats_saved"') == 1 and b"2000-01-01" not in custom
    bare = c.strip_metadata(bad, tmp_path / "bare.xlsx")  # no custom properties, no defined names
    assert "docProps/custom.xml" not in _parts(bare)
    out = _by_zip(bare, tmp_path / "fb2.xlsx")
    copy = open_xlsx(out.read_bytes())
    assert copy.custom == {OUTPUT_PROPERTY: "feedback", SAVED_PROPERTY: open_xlsx(bare.read_bytes()).modified}
    assert openpyxl.load_workbook(out).worksheets[0].print_title_rows.replace("$", "") == "5:5"
    assert [f.code for f in check_file(out, year=2024).findings] == ["F11"]


def _xlsm(src: Path, dst: Path) -> Path:
    def edit(name, data):
        return data.replace(b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                            b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
    c.rewrite(src, dst, edit)
    with zipfile.ZipFile(dst, "a") as z:
        z.writestr("xl/vbaProject.bin", b"\0" * 64)
    return dst


def _resent(src: Path, dst: Path) -> Path:
    """The feedback copy, fixed by the province and saved: it already carries a "Phản hồi" sheet."""
    wb = openpyxl.load_workbook(_by_zip(src, dst.with_suffix(".fb.xlsx")))
    wb["2.2 Số liệu"]["A1"] = "đã sửa"
    wb.save(dst)
    return dst


def _prefixed(src: Path, dst: Path, part: str) -> Path:
    """The same part with every element written with an 'x:' prefix (valid XML, as some programs write it)."""
    def prefix(xml: str) -> str:
        xml = xml.replace('xmlns="http://schemas', 'xmlns:x="http://schemas', 1)
        return re.sub(r"<(/?)([a-zA-Z]+)([\s>/])", r"<\1x:\2\3", xml)
    return c.edit_part(src, dst, part, prefix)


@pytest.mark.parametrize("odd", [
    _xlsm,
    _resent,
    lambda src, dst: _prefixed(src, dst, "xl/styles.xml"),
    lambda src, dst: c.edit_part(src, dst, "xl/workbook.xml", lambda x: x.replace("<sheets>", "<!-- --><sheets>")),
    lambda src, dst: _prefixed(src, dst, "xl/workbook.xml"),
], ids=["xlsm", "already-has-feedback-sheet", "prefixed-styles", "comment-in-workbook", "prefixed-workbook"])
def test_odd_shapes_go_to_the_openpyxl_writer(bad, tmp_path, odd):
    src = odd(bad, tmp_path / "odd.xlsx")
    entry = _entry(src)
    assert _zip_leaves(entry, tmp_path)
    out = write_feedback(entry, tmp_path / "fb.xlsx")
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames.count(FEEDBACK_SHEET) == 1 and wb.sheetnames[0] == FEEDBACK_SHEET
    assert "xl/vbaProject.bin" not in _parts(out)


def test_a_provinces_own_sheet_named_like_the_feedback_in_another_case_is_kept_apart(bad, tmp_path):
    """Excel takes sheet names that differ only in case for one name: the copy must not hold both."""
    wb = openpyxl.load_workbook(bad)
    wb.create_sheet("PHẢN HỒI")["A1"] = "ý kiến của tỉnh"
    wb.save(src := tmp_path / "tra-loi.xlsx")
    entry = _entry(src)
    assert _zip_leaves(entry, tmp_path)  # the openpyxl writer names its sheet apart
    names = openpyxl.load_workbook(write_feedback(entry, tmp_path / "fb.xlsx")).sheetnames
    assert names[0].startswith(FEEDBACK_SHEET) and "PHẢN HỒI" in names
    assert len({n.casefold() for n in names}) == len(names)


@pytest.mark.parametrize("writer", [_by_zip, _by_openpyxl])
def test_a_finding_longer_than_a_cell_holds_is_cut_and_its_row_is_no_taller_than_excel_allows(bad, tmp_path, writer):
    f = c.FORM.fields["the_cap_moi_tong_n"]
    src = c.put_cell_xml(bad, tmp_path / "dai.xlsx", f.sheet, f.cell,
                         f'<c r="{f.cell}" t="inlineStr"><is><t>{"ghi chú dài " * 3500}</t></is></c>')
    assert max(len(x.message) for x in _entry(src).findings) > 32_767
    ws = openpyxl.load_workbook(writer(src, tmp_path / "fb.xlsx"))[FEEDBACK_SHEET]
    texts = [cl.value for row in ws.iter_rows() for cl in row if isinstance(cl.value, str)]
    assert max(len(t) for t in texts) <= 32_767 and any(t.endswith("…") for t in texts)
    assert max(d.height for d in ws.row_dimensions.values() if d.height) <= 409


def test_a_file_name_that_is_not_utf8_gets_its_copy(bad, tmp_path):
    odd = tmp_path / os.fsdecode(b"Ha N\xf4i.xlsx")  # a name in a legacy code page
    shutil.copy(bad, odd)
    [made] = write_feedbacks([_entry(odd)], tmp_path / "fb")
    assert made is not None and made.name == "Ha N_i_phan-hoi.xlsx"
    assert "Ha N?i.xlsx" in openpyxl.load_workbook(made)[FEEDBACK_SHEET]["A1"].value  # the byte shown as "?"


def test_a_feedback_copy_of_a_copy_lists_the_new_findings_once(bad, tmp_path):
    src = _resent(bad, tmp_path / "lan-2.xlsx")
    entry = _entry(src)
    out = write_feedback(entry, tmp_path / "fb.xlsx")
    wb = openpyxl.load_workbook(out)
    ws = wb.worksheets[0]
    assert wb.sheetnames.count(FEEDBACK_SHEET) == 1 and ws["A1"].value == "KẾT QUẢ KIỂM TRA TỆP: lan-2.xlsx"
    codes = [ws[f"C{r}"].value for r in range(6, ws.max_row + 1)]
    assert sorted(codes) == sorted(f.code for f in entry.findings) and codes


@pytest.mark.libreoffice
def test_libreoffice_opens_both_writers_copies_of_a_return_it_saved(lo, tmp_path):
    template = c.filled(tmp_path / "mau.xlsx", values={})
    values = {k: v for k, v in c.good_values().items() if not hasattr(v, "year")}
    values["the_cap_moi_tong_n"] = 1
    saved = tmp_path / "lo" / "bao-cao _x0041_ & <b>.xlsx"
    saved.parent.mkdir()
    lo.fill(template, saved, values)
    (tmp_path / "zip").mkdir()
    by_zip = _by_zip(saved, tmp_path / "zip" / "phan-hoi.xlsx")
    _assert_zip_path(saved, by_zip)
    by_openpyxl = _by_openpyxl(saved, tmp_path / "openpyxl" / "phan-hoi.xlsx")
    texts = []
    for copy in (by_zip, by_openpyxl):
        pdf = lo.convert(copy, "pdf", copy.parent)
        first = subprocess.run(["pdftotext", "-l", "1", str(pdf), "-"], capture_output=True, text=True,
                               check=True).stdout
        whole = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert "KẾT QUẢ KIỂM TRA TỆP: bao-cao _x0041_ & <b>.xlsx" in first and "R02" in first
        assert "2.2 Số liệu · E26" in first
        assert "Hà Nội" in whole and "THƯ VIỆN" in whole.upper()  # the province's own sheets follow
        texts.append((first, whole.count("\f")))
    assert texts[0] == texts[1]
    if shutil.which("pdftoppm"):  # the first page of each, as a person looks at it (both must render)
        for copy in (by_zip, by_openpyxl):
            subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(copy.with_suffix(".pdf")),
                            str(copy.with_suffix(""))], check=True)
            assert copy.with_name(copy.stem + "-01.png").stat().st_size > 1000
