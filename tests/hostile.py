"""Hostile returns, made by code from generated templates: files that lie, and files that cost too much.

Each case is (name, kind, maker, fate): ``maker(folder) -> path`` writes the file; ``fate`` is what the checker
must make of it (tests/test_hostile.py asserts it; benchmarks/bench_hostile.py times each case in its own
process). Byte-level edits stand for what a person with a text editor and a zip tool did.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from libstats.model.findings import Verdict

from . import corpus as c

FIELD = c.FORM.fields["the_cap_moi_tong_n"]  # a count on the main data sheet
SHEET, CELL = FIELD.sheet, FIELD.cell
VALUE = c.good_values()["the_cap_moi_tong_n"]
ARABIC_VALUE = str(VALUE).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))  # float() reads it; no spreadsheet does
HCMC = "79"  # another province's code in the 2004 list


@dataclass(frozen=True)
class Fate:
    verdict: Verdict
    codes: tuple[str, ...] = ()  # each must be among the findings
    value: object = field(default=None)  # when set: what the field must read
    check: Callable | None = None  # a further assertion on the CheckResult


def _good(folder: Path) -> Path:
    return c.filled(folder / "good.xlsx")


def _edit_sheet(folder: Path, name: str, fn) -> Path:
    src = _good(folder)
    return c.edit_part(src, folder / f"{name}.xlsx", c.sheet_part(src, SHEET), fn)


def _cell_xml(xml: str, new: str) -> str:
    return re.sub(rf'<c r="{CELL}"[^>]*?(/>|>.*?</c>)', lambda _m: new, xml, count=1)


def _add_sheet(src: Path, dst: Path, name: str, state: str, xml: bytes | Iterable[bytes]) -> Path:
    """A sheet added under ``name`` with ``state`` (hidden, veryHidden); ``xml`` may come in chunks."""
    sheet = f'<sheet name="{name}" sheetId="99" state="{state}" r:id="rId99"/></sheets>'
    return c.add_part(src, dst, "xl/worksheets/copy.xml", xml, "worksheet",
                      lambda part, text: text.replace("</sheets>", sheet) if part == "xl/workbook.xml" else text)


def _hidden_copy(folder: Path, name: str, state: str) -> Path:
    """The data sheet copied to a hidden sheet holding other figures; every name of the data sheet re-pointed."""
    src = _good(folder)
    with zipfile.ZipFile(src) as z:
        xml = z.read(c.sheet_part(src, SHEET)).decode()
    other = _cell_xml(xml, f'<c r="{CELL}" s="25"><v>{VALUE + 1000}</v></c>')
    copy = "2.2 Số liệu (2)"
    mid = _add_sheet(src, folder / f"{name}-0.xlsx", copy, state, other.encode())
    return c.edit_names(mid, folder / f"{name}.xlsx", lambda x: x.replace(f"'{SHEET}'!", f"'{copy}'!"))


def _big_hidden_sheet(folder: Path, name: str, rows: int, values: bool = True) -> Path:
    """A hidden sheet of ``rows`` rows of two cells each, written in chunks (without values, 7 million cells
    stay under the 200 MB cap on the unzipped parts: the reader must skip the sheet, not refuse the file)."""
    def row(r: int) -> str:
        if values:
            return f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{r * 7}</v></c></row>'
        return f'<row r="{r}"><c r="A{r}"/><c r="B{r}"/></row>'

    def chunks():
        yield (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
               b'spreadsheetml/2006/main"><sheetData>')
        for first in range(1, rows + 1, 50_000):
            yield "".join(row(r) for r in range(first, min(rows, first + 49_999) + 1)).encode()
        yield b"</sheetData></worksheet>"
    return _add_sheet(_good(folder), folder / f"{name}.xlsx", "Ẩn", "hidden", chunks())


def _bloated_data_sheet(folder: Path, name: str, cells: int) -> Path:
    extra = "".join(f'<c r="Z{r}"><v>1</v></c>' for r in range(1, cells + 1))
    return _edit_sheet(folder, name, lambda x: x.replace("</sheetData>", f'<row r="1048000">{extra}</row>'
                                                                          "</sheetData>", 1))


def _big_shared_strings(folder: Path, name: str, count: int) -> Path:
    src = _good(folder)
    filler = "".join(f"<si><t>chuỗi thừa số {i} {'x' * 60}</t></si>" for i in range(count))
    return c.edit_part(src, folder / f"{name}.xlsx", "xl/sharedStrings.xml",
                       lambda x: x.replace("</sst>", filler + "</sst>"))


def _deep(folder: Path, name: str, depth: int) -> Path:
    nest = "<x>" * depth + "</x>" * depth
    return _edit_sheet(folder, name, lambda x: x.replace("</sheetData>", f"</sheetData><!-- --><extLst>{nest}"
                                                                          "</extLst>", 1))


def _many_merges(folder: Path, name: str, count: int) -> Path:
    merges = "".join(f'<mergeCell ref="AA{r}:AB{r}"/>' for r in range(1, count + 1))
    return _edit_sheet(folder, name, lambda x: re.sub(r"<mergeCells count=\"\d+\">", f'<mergeCells count="9">{merges}',
                                                      x, count=1))


def _crafted_tags(folder: Path, name: str, count: int) -> Path:
    """Thousands of unclosed tags: what made old patterns with lazy bodies run in quadratic time."""
    junk = "<definedName " * count
    src = _good(folder)
    return c.edit_names(src, folder / f"{name}.xlsx", lambda x: x.replace("<definedNames>", "<definedNames>" + junk,
                                                                           1))


def _crafted_phonetic(folder: Path, name: str, count: int) -> Path:
    src = _good(folder)
    junk = "</rPh>" + "<rPh " * count
    return c.edit_part(src, folder / f"{name}.xlsx", "xl/sharedStrings.xml",
                       lambda x: x.replace("<si><t>", "<si><t>" + junk, 1))


def _zip_of_returns(folder: Path, name: str) -> Path:
    good = _good(folder).read_bytes()
    dst = folder / f"{name}.zip"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for p in ("Hà Nội.xlsx", "Hải Phòng.xlsx", "Huế.xlsx"):
            z.writestr(p, good)
    dst.write_bytes(buf.getvalue())
    return dst


def _recompressed(folder: Path, name: str, method: int) -> Path:
    """The good file with its data sheet's part compressed by ``method`` (bzip2 12, LZMA 14): Python's zipfile
    writes and reads it, neither Excel nor LibreOffice opens it."""
    src = _good(folder)
    part, dst = c.sheet_part(src, SHEET), folder / f"{name}.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info), method if info.filename == part else zipfile.ZIP_DEFLATED)
    return dst


def _error_value_at(fid: str):
    """A maker: the good file with field ``fid``'s cell holding an error value (typed or pasted: no formula)."""
    f = c.FORM.fields[fid]
    return lambda t: c.put_cell_xml(_good(t), t / f"error-{fid}.xlsx", f.sheet, f.cell,
                                    f'<c r="{f.cell}" t="e"><v>#REF!</v></c>')


def _refused_at(fid: str):
    """A check: field ``fid`` is refused with V06 at its own cell, and no value of it is kept."""
    f = c.FORM.fields[fid]
    return lambda res: res.values.get(fid) is None and any(
        x.code == "V06" and (x.sheet, x.cell) == (f.sheet, f.cell) and "#REF!" in x.message for x in res.findings)


def _names_in_comment(folder: Path, name: str, count: int) -> Path:
    """A comment in workbook.xml holding ``count`` definedName openings: no spreadsheet program reads them."""
    junk = "<!-- " + "<definedName>" * count + " -->"
    return c.edit_names(_good(folder), folder / f"{name}.xlsx", lambda x: x.replace("</definedNames>",
                                                                                    junk + "</definedNames>", 1))


def _names_the_part(method: str):
    return lambda res: any(f.code == "F03" and method in f.message and "xl/worksheets/" in f.message
                           for f in res.findings)


def _value_is(value):
    return lambda res: res.values.get(FIELD.id) == value


CASES: list[tuple[str, str, Callable[[Path], Path], Fate]] = [
    # lying
    ("hidden-copy", "lying", lambda t: _hidden_copy(t, "hidden-copy", "hidden"), Fate(Verdict.REJECTED, ("S11",))),
    ("very-hidden-copy", "lying", lambda t: _hidden_copy(t, "very-hidden-copy", "veryHidden"),
     Fate(Verdict.REJECTED, ("S11",))),
    ("custom-properties-other-province", "lying",
     lambda t: c.set_meta(_good(t), t / "custom.xlsx", "province", f"2004:{HCMC}"),
     Fate(Verdict.REJECTED, ("I10",), check=lambda res: res.province in (None, c.HANOI))),
    ("metadata-sheet-other-province", "lying",
     lambda t: c.put_cell_xml(_good(t), t / "meta-sheet.xlsx", "_libstats", "B6",
                              f'<c r="B6" t="inlineStr"><is><t>2004:{HCMC}</t></is></c>'),
     Fate(Verdict.REJECTED, ("I10",), check=lambda res: res.province in (None, c.HANOI))),
    ("cover-shows-other-province", "lying",
     lambda t: c.put_cell_xml(_good(t), t / "cover.xlsx", "Bìa", c.FORM.fields["bia_tinh"].cell,
                              f'<c r="{c.FORM.fields["bia_tinh"].cell}" t="inlineStr"><is><t>Thành phố Hồ Chí Minh'
                              "</t></is></c>"),
     Fate(Verdict.REJECTED, ("I10",), check=lambda res: res.province is None or res.province.code == HCMC)),
    ("custom-property-in-comment", "lying",
     lambda t: c.edit_part(_good(t), t / "custom-comment.xlsx", "docProps/custom.xml", lambda x: x.replace(
         "</Properties>", '<!-- <property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="99" '
         f'name="libstats_province"><vt:lpwstr>2004:{HCMC}</vt:lpwstr></property> --></Properties>')),
     Fate(Verdict.ACCEPTED, check=lambda res: res.province == c.HANOI)),
    ("cell-in-comment", "lying",
     lambda t: _edit_sheet(t, "cell-comment", lambda x: x.replace(
         f'<c r="{CELL}"', f'<!-- <c r="{CELL}"><v>{VALUE + 1000}</v></c> --><c r="{CELL}"', 1)),
     Fate(Verdict.ACCEPTED, value=VALUE)),
    ("name-in-comment", "lying",
     lambda t: c.edit_names(_good(t), t / "name-comment.xlsx", lambda x: x.replace(
         "</definedNames>", f'<!-- <definedName name="{FIELD.id}">\'{SHEET}\'!$Z$99</definedName> --></definedNames>')),
     Fate(Verdict.ACCEPTED, value=VALUE)),
    ("cell-written-twice", "lying",
     lambda t: _edit_sheet(t, "twice", lambda x: _cell_xml(x, f'<c r="{CELL}"><v>{VALUE}</v></c>'
                                                            f'<c r="{CELL}"><v>{VALUE + 1000}</v></c>')),
     Fate(Verdict.REJECTED, ("F03",))),
    ("python-only-number", "lying",
     lambda t: _edit_sheet(t, "underscore", lambda x: _cell_xml(x, f'<c r="{CELL}"><v>{VALUE}_0</v></c>')),
     Fate(Verdict.REJECTED, ("V05",))),
    ("arabic-indic-digits", "lying",
     lambda t: _edit_sheet(t, "arabic", lambda x: _cell_xml(x, f'<c r="{CELL}"><v>{ARABIC_VALUE}</v></c>')),
     Fate(Verdict.REJECTED, ("V05",))),
    ("cdata-number", "lying",
     lambda t: _edit_sheet(t, "cdata", lambda x: _cell_xml(x, f'<c r="{CELL}"><v><![CDATA[{VALUE}]]></v></c>')),
     Fate(Verdict.ACCEPTED, value=VALUE)),
    ("inline-string-number", "lying",
     lambda t: _edit_sheet(t, "inline", lambda x: _cell_xml(
         x, f'<c r="{CELL}" t="inlineStr"><is><r><t>{VALUE}</t></r><rPh sb="0" eb="1"><t>9</t></rPh></is></c>')),
     Fate(Verdict.ACCEPTED, ("V01",), value=VALUE)),
    ("narrative-error-value", "lying", _error_value_at("n1_danh_gia_chung"),
     Fate(Verdict.REJECTED, ("V06",), check=_refused_at("n1_danh_gia_chung"))),
    ("cover-error-value", "lying", _error_value_at("bia_co_quan"),
     Fate(Verdict.REJECTED, ("V06",), check=_refused_at("bia_co_quan"))),
    ("number-error-value", "lying", _error_value_at(FIELD.id), Fate(Verdict.REJECTED, ("V06",),
                                                                   check=_refused_at(FIELD.id))),
    # no spreadsheet program opens it
    ("sheet-part-bzip2", "unopenable", lambda t: _recompressed(t, "bzip2", zipfile.ZIP_BZIP2),
     Fate(Verdict.REJECTED, ("F03",), check=_names_the_part("bzip2"))),
    ("sheet-part-lzma", "unopenable", lambda t: _recompressed(t, "lzma", zipfile.ZIP_LZMA),
     Fate(Verdict.REJECTED, ("F03",), check=_names_the_part("LZMA"))),
    # costly
    ("names-in-a-60-thousand-tag-comment", "costly", lambda t: _names_in_comment(t, "names-comment", 60_000),
     Fate(Verdict.ACCEPTED, value=VALUE)),
    ("hidden-sheet-1.5-million-cells", "costly", lambda t: _big_hidden_sheet(t, "big-hidden", 750_000),
     Fate(Verdict.ACCEPTED, value=VALUE)),
    ("data-sheet-600-thousand-cells", "costly", lambda t: _bloated_data_sheet(t, "bloated", 600_000),
     Fate(Verdict.REJECTED, ("F06",))),
    ("shared-strings-25-MB", "costly", lambda t: _big_shared_strings(t, "big-sst", 300_000),
     Fate(Verdict.ACCEPTED, value=VALUE)),
    ("nested-100-thousand-deep", "costly", lambda t: _deep(t, "deep", 100_000), Fate(Verdict.REJECTED, ("F03",))),
    ("merges-50-thousand", "costly", lambda t: _many_merges(t, "merges", 50_000), Fate(Verdict.REJECTED, ("F06",))),
    ("unclosed-name-tags", "costly", lambda t: _crafted_tags(t, "tags", 15_000), Fate(Verdict.REJECTED, ("F03",))),
    ("unclosed-phonetic-runs", "costly", lambda t: _crafted_phonetic(t, "rph", 15_000),
     Fate(Verdict.REJECTED, ("F03",))),
    ("zip-of-three-returns", "costly", lambda t: _zip_of_returns(t, "three"), Fate(Verdict.REJECTED, ("F01",))),
]

# Too slow to build for every test run (300 MB of XML): benchmarks/bench_hostile.py adds it.
SEVEN_MILLION = ("hidden-sheet-7-million-cells", "costly",
                 lambda t: _big_hidden_sheet(t, "huge-hidden", 3_500_000, values=False),
                 Fate(Verdict.ACCEPTED, value=VALUE))
