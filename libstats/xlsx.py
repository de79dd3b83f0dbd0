"""A small, bounded reader of the parts of an .xlsx that libstats needs.

It reads only what it is asked for: the sheet list, defined names, custom properties, and the values and
formulas of a given set of cells, plus each sheet's protection and merged ranges. It streams the XML with
defusedxml (no entity expansion), checks sizes and compression ratios before parsing, and never allocates by
the declared dimension, so a cell at XFD1048576 or a 400 MB string table cannot take the process down.
"""

from __future__ import annotations

import html
import io
import posixpath
import re
import zipfile
from functools import lru_cache
from dataclasses import dataclass, field

from defusedxml.ElementTree import iterparse

from .layout import col_name, is_address, split_address

__all__ = ["XlsxError", "Limits", "Cell", "SheetInfo", "Workbook", "open_xlsx", "read_cells"]

NS_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
NS_CUSTOM = "{http://schemas.openxmlformats.org/officeDocument/2006/custom-properties}"


class XlsxError(Exception):
    """The file cannot be read as an .xlsx; ``code`` is the finding code (F03 corrupt, F06 too large)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Limits:
    max_uncompressed: int = 200 * 2**20  # all parts together
    max_ratio: int = 100  # uncompressed / compressed, per part over 1 MB
    max_parts: int = 5000
    max_cells: int = 2_000_000  # <c> elements scanned over all sheets


@dataclass(frozen=True)
class Cell:
    value: object  # float, str, bool, or None
    formula: str | None = None
    error: str | None = None  # "#DIV/0!" etc.


@dataclass
class SheetInfo:
    name: str
    path: str
    state: str = "visible"
    protected: bool = False
    merged: list[str] = field(default_factory=list)


@dataclass
class Workbook:
    sheets: list[SheetInfo]
    names: dict[str, str]  # defined name (lower-case) → its formula text, e.g. "'Bìa'!$B$9"
    custom: dict[str, str]
    date1904: bool
    macros: bool
    cells: dict[tuple[str, str], Cell]  # (sheet name, "B9") → cell, for the cells read so far
    zip: zipfile.ZipFile = field(repr=False, default=None)
    limits: Limits = field(default_factory=Limits)
    modified: str = ""  # docProps/core.xml dcterms:modified: when the province last saved the file

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)


def _check_sizes(z: zipfile.ZipFile, limits: Limits) -> None:
    infos = z.infolist()
    if len(infos) > limits.max_parts:
        raise XlsxError("F06", f"{len(infos)} phần trong tệp nén")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise XlsxError("F06", f"giải nén ra {total // 2**20} MB")
    for i in infos:
        if i.file_size > 2**20 and i.file_size > limits.max_ratio * max(1, i.compress_size):
            raise XlsxError("F06", f"tỷ lệ nén bất thường ở {i.filename}")


def _iter(z: zipfile.ZipFile, name: str):
    with z.open(name) as fh:
        yield from iterparse(fh, events=("start", "end"))


_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*)[\s>/]")


def _plain(data: bytes) -> bool:
    """XML the fast path may read with patterns: no DTD (so no entities) and an unprefixed root element.
    Both can only be at the start of a part, before the root element's first child."""
    head = data[:4096]
    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
        return False
    root = _ROOT.search(head.split(b"?>", 1)[-1] if head.startswith(b"<?xml") else head)
    return bool(root) and b":" not in root[1]


_REL = re.compile(rb"<Relationship\b([^>]*)/?>")


def _rels(z: zipfile.ZipFile, name: str) -> dict[str, str]:
    if name not in z.NameToInfo:
        return {}
    data = z.read(name)
    if _plain(data):
        return {_attr(a, "Id"): _attr(a, "Target") for a in _REL.findall(data)}
    out = {}
    for event, el in _iter(z, name):
        if event == "end" and el.tag == NS_PKG_REL + "Relationship":
            out[el.get("Id")] = el.get("Target")
    return out


_SHEET = re.compile(rb"<sheet\b([^>]*)/?>")
_DEFNAME = re.compile(rb"<definedName\b([^>]*)>(.*?)</definedName>", re.S)
_LOCAL = re.compile(rb"\blocalSheetId=")
_NAME = re.compile(rb'\bname="([^"]*)"')


def _attr(attrs: bytes, name: str) -> str | None:
    m = re.search(rb"(?:^|\s)" + name.encode() + rb'="([^"]*)"', attrs)
    return _text(m[1]) if m else None


def _sheet_path(target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)


def _workbook(z: zipfile.ZipFile) -> tuple[list[SheetInfo], dict[str, str], bool]:
    rels = _rels(z, "xl/_rels/workbook.xml.rels")
    data = z.read("xl/workbook.xml")
    if _plain(data):
        sheets = [SheetInfo(_attr(a, "name"), _sheet_path(rels.get(_attr(a, "r:id") or "", "")),
                            _attr(a, "state") or "visible") for a in _SHEET.findall(data)]
        names = {_text(_NAME.search(a)[1]).lower(): (_text(v) or "").strip() for a, v in _DEFNAME.findall(data)
                 if not _LOCAL.search(a) and _NAME.search(a)}
        pr = re.search(rb"<workbookPr\b[^>]*>", data)
        date1904 = bool(pr and re.search(rb'date1904="(1|true)"', pr[0]))
        if all(s.name and s.path != "." for s in sheets):  # else an unusual prefix: use the full parser
            return sheets, names, date1904
    sheets, names, date1904 = [], {}, False
    for event, el in _iter(z, "xl/workbook.xml"):
        if event != "end":
            continue
        if el.tag == NS_MAIN + "sheet":
            sheets.append(SheetInfo(el.get("name"), _sheet_path(rels.get(el.get(NS_REL + "id"), "")),
                                    el.get("state", "visible")))
        elif el.tag == NS_MAIN + "definedName" and el.get("localSheetId") is None:
            names[el.get("name").lower()] = (el.text or "").strip()
        elif el.tag == NS_MAIN + "workbookPr":
            date1904 = el.get("date1904") in ("1", "true")
    return sheets, names, date1904


_PROPERTY = re.compile(rb'<property\b[^>]*?\bname="([^"]*)"[^>]*>\s*<vt:\w+>([^<]*)</vt:\w+>', re.S)


def _custom(z: zipfile.ZipFile) -> dict[str, str]:
    if "docProps/custom.xml" not in z.NameToInfo:
        return {}
    data = z.read("docProps/custom.xml")
    if _plain(data):
        found = {_text(k): _text(v) for k, v in _PROPERTY.findall(data)}
        if len(found) == data.count(b"<property "):  # else an unusual shape: let the parser read it
            return found
    out = {}
    for event, el in _iter(z, "docProps/custom.xml"):
        if event == "end" and el.tag == NS_CUSTOM + "property":
            value = next(iter(el), None)
            out[el.get("name")] = (value.text or "") if value is not None else ""
    return out


def _scan_sheet(z, sheet: SheetInfo, wanted: set[str], budget: list[int]) -> dict[str, tuple]:
    """Scan one sheet: protection, merges, and (type, value, formula, inline text) of the wanted cells."""
    found = {}
    current, row_num, col_num = None, 0, 0
    for event, el in _iter(z, sheet.path):
        tag = el.tag
        if event == "start":
            if tag == NS_MAIN + "c":
                budget[0] -= 1
                if budget[0] < 0:
                    raise XlsxError("F06", "quá nhiều ô")
                addr = el.get("r")
                if addr is None:  # the r attribute is optional: count positions
                    col_num += 1
                    addr = f"{col_name(col_num - 1)}{row_num}"
                else:
                    col_num = split_address(addr)[1] + 1 if is_address(addr) else col_num + 1
                current = addr if addr in wanted else None
            elif tag == NS_MAIN + "row":
                row_num = int(el.get("r") or row_num + 1)
                col_num = 0
            continue
        if tag == NS_MAIN + "c":
            if current is not None:
                f = el.find(NS_MAIN + "f")
                v = el.find(NS_MAIN + "v")
                inline = "".join(t.text or "" for t in el.iter(NS_MAIN + "t")) if el.get("t") == "inlineStr" else None
                found[current] = (el.get("t", "n"), v.text if v is not None else None,
                                  (f.text or "") if f is not None else None, inline)
            el.clear()
        elif tag == NS_MAIN + "row":
            el.clear()
        elif tag == NS_MAIN + "sheetProtection":
            sheet.protected = el.get("sheet") in ("1", "true")
        elif tag == NS_MAIN + "mergeCell":
            sheet.merged.append(el.get("ref"))
    return found


_C = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ADDRESSED = re.compile(rb'<c\b[^>]*?\br="')
_SIMPLE = re.compile(rb'<c r="[A-Z]+\d+"(?: s="\d+")?(?: t="(\w+)")?(?:/>|>(?:<v>([^<]*)</v>)?</c>)')
_ATTR_T = re.compile(rb'\bt="([^"]*)"')
_F = re.compile(rb"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_V = re.compile(rb"<v>(.*?)</v>", re.S)
_T = re.compile(rb"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_RPH = re.compile(rb"<rPh\b.*?</rPh>", re.S)
_SI = re.compile(rb"<si>(.*?)</si>|<si/>", re.S)
_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _text(raw: bytes | None) -> str | None:
    """XML character data → str: entities and OOXML's _xHHHH_ escapes resolved (never expanded from a DTD)."""
    if raw is None:
        return None
    text = raw.decode("utf-8")
    if "&" in text:
        text = html.unescape(text)
    return _XESC.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


@lru_cache(maxsize=64)
def _wanted_re(wanted: frozenset[str]) -> re.Pattern:
    alternatives = b"|".join(a.encode("ascii") for a in sorted(wanted)) or b"(?!)"
    return re.compile(rb'<c\b[^>]*?\br="(' + alternatives + rb')"')


@lru_cache(maxsize=64)
def _in_sheet_order(wanted: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(wanted, key=split_address))


def _scan_fast(data: bytes, sheet: SheetInfo, wanted: set[str], budget: list[int]) -> dict[str, tuple] | None:
    """The common case at C speed: unprefixed tags and every cell addressed. None: use the full parser."""
    if not _plain(data):
        return None
    if b"<c>" in data:
        return None  # a cell with no attributes has no address: count positions with the full parser
    cells = data.count(b"<c ")
    budget[0] -= cells
    if budget[0] < 0:
        raise XlsxError("F06", "quá nhiều ô")
    direct = data.count(b'<c r="') == cells
    if not direct and len(_ADDRESSED.findall(data)) != cells:
        return None  # some cell has no address: count positions with the full parser
    found = {}
    if direct:  # every cell starts with its address: find each wanted one directly
        starts, pos = [], 0
        for addr in _in_sheet_order(frozenset(wanted)):
            tag = b'<c r="' + addr.encode("ascii") + b'"'
            i = data.find(tag, pos)
            if i < 0:
                i = data.find(tag)  # cells out of order: look from the start before calling it absent
            if i >= 0:
                starts.append((addr, i))
                pos = i
    else:
        starts = [(hit[1].decode("ascii"), hit.start()) for hit in _wanted_re(frozenset(wanted)).finditer(data)]
    for addr, start in starts:
        simple = _SIMPLE.match(data, start)
        if simple:  # most cells: a value or nothing, no formula, no inline text
            kind = simple[1].decode("ascii") if simple[1] else "n"
            found[addr] = (kind, _text(simple[2]), None, None)
            continue
        m = _C.match(data, start)
        body = m[2] or b""
        t = _ATTR_T.search(m[1])
        kind = t[1].decode("ascii") if t else "n"
        f, v = _F.search(body), _V.search(body)
        inline = "".join(_text(x[1]) or "" for x in _T.finditer(_RPH.sub(b"", body))) if kind == "inlineStr" else None
        found[addr] = (kind, _text(v[1]) if v else None, (_text(f[1]) or "") if f else None, inline)
    prot = re.search(rb"<sheetProtection\b[^>]*>", data)
    sheet.protected = bool(prot and re.search(rb'\bsheet="(1|true)"', prot[0]))
    sheet.merged = [x.decode("ascii") for x in re.findall(rb'<mergeCell ref="([A-Z0-9:$]+)"', data)]
    return found


def _shared_strings(z: zipfile.ZipFile, needed: set[int]) -> dict[int, str]:
    if not needed or "xl/sharedStrings.xml" not in z.NameToInfo:
        return {}
    data = z.read("xl/sharedStrings.xml")
    if _plain(data) and b"<si/>" not in data:
        items = data.split(b"<si>")[1:]  # C-speed split; only the strings asked for are parsed

        def one(item: bytes) -> str:
            body = item.split(b"</si>", 1)[0]
            return "".join(_text(x[1]) or "" for x in _T.finditer(_RPH.sub(b"", body) if b"<rPh" in body else body))
        return {i: one(items[i]) for i in needed if i < len(items)}
    out, index, top = {}, -1, max(needed)
    for event, el in _iter(z, "xl/sharedStrings.xml"):
        if event == "end" and el.tag == NS_MAIN + "si":
            index += 1
            if index in needed:
                # rich text runs are concatenated; phonetic runs (rPh) are not part of the text
                out[index] = "".join(t.text or "" for r in el if r.tag != NS_MAIN + "rPh"
                                     for t in ([r] if r.tag == NS_MAIN + "t" else r.iter(NS_MAIN + "t")))
            el.clear()
            if index >= top:
                break
    return out


def _cell(kind: str, raw: str | None, formula: str | None, inline: str | None, strings: dict[int, str]) -> Cell:
    if kind == "s":
        value = strings.get(int(raw)) if raw is not None else None
    elif kind == "inlineStr":
        value = inline
    elif kind in ("str", "d"):
        value = raw
    elif kind == "b":
        value = raw in ("1", "true")
    elif kind == "e":
        return Cell(None, formula, raw or "#N/A")
    else:
        value = float(raw) if raw not in (None, "") else None
    return Cell(value, formula)


def open_xlsx(data: bytes, limits: Limits = Limits(), z: zipfile.ZipFile | None = None) -> Workbook:
    """Open .xlsx bytes (or the zip already opened on them): sizes checked, sheets, defined names and custom
    properties read; no cells yet."""
    try:
        z = z or zipfile.ZipFile(io.BytesIO(data))
        _check_sizes(z, limits)
        sheets, names, date1904 = _workbook(z)
        custom = _custom(z)
    except XlsxError:
        raise
    except Exception as exc:  # BadZipFile, EOFError, XML parse errors, DefusedXmlException...: a corrupt file
        raise XlsxError("F03", type(exc).__name__ + (f": {exc}" if str(exc) else "")) from exc
    modified = ""
    if "docProps/core.xml" in z.NameToInfo:
        m = re.search(rb"<dcterms:modified[^>]*>([^<]+)</dcterms:modified>", z.read("docProps/core.xml"))
        modified = m[1].decode("ascii", "replace").strip() if m else ""
    return Workbook(sheets, names, custom, date1904, "xl/vbaProject.bin" in z.NameToInfo, {}, z, limits, modified)


def read_cells(wb: Workbook, wanted: dict[str, set[str]]) -> dict[tuple[str, str], Cell]:
    """Read the cells ``wanted`` ({sheet name: {"B9", ...}}); also fills each sheet's protection and merges."""
    z = wb.zip
    try:
        budget = [wb.limits.max_cells]
        raw: dict[tuple[str, str], tuple] = {}
        names = z.NameToInfo
        for sheet in wb.sheets:
            if sheet.path in names and sheet.name in wanted:
                cells_wanted = wanted[sheet.name]
                found = _scan_fast(z.read(sheet.path), sheet, cells_wanted, budget)
                if found is None:
                    found = _scan_sheet(z, sheet, cells_wanted, budget)
                for addr, cell in found.items():
                    raw[(sheet.name, addr)] = cell
        needed = {int(r[1]) for r in raw.values() if r[0] == "s" and r[1] is not None and r[1].isdigit()}
        strings = _shared_strings(z, needed)
        cells = {key: _cell(*r, strings) for key, r in raw.items()}
    except XlsxError:
        raise
    except Exception as exc:
        raise XlsxError("F03", type(exc).__name__ + (f": {exc}" if str(exc) else "")) from exc
    wb.cells.update(cells)
    return cells
