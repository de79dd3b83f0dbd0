"""A small, bounded reader of the parts of an .xlsx that libstats needs.

It reads only what it is asked for: the sheet list, defined names, custom properties, and the values and
formulas of a given set of cells, plus each sheet's protection and merged ranges. Sheets holding no wanted
cell are never read. Every part is size-capped before it is read, and read by one parser: the standard
library's expat, with namespaces resolved, a DTD refused (so no entity can be declared or expanded), and the
elements met and their depth bounded. What a comment, CDATA section or processing instruction holds is never
read as elements, and caps count the elements the parser meets, as a spreadsheet program would. An element's
text is what it holds before its first child, as ElementTree reads it.

One fast path (see its section below), inside that same parse: the bulk of a plain part (a sheet's sheetData,
the shared-string items, the definedNames block) is read by a strict grammar while expat parses it with no
handler, so expat still checks every byte. tests/test_reader_differential.py proves the grammar's reading
equal to the handlers' (case tables and hypothesis); tests/test_libreoffice_reader.py compares both with what
LibreOffice shows.

One memo (``MEMO``, a ``PartMemo``): what the fast path found in the workbook part, in a sheet and in a
definedNames block, by their bytes (the returns of a round share many of them); answers only, immutable,
bounded; tests/test_reader_memo.py proves a hit equal to a miss and to the full parser.

Values are read the way spreadsheet programs read them: a number is the XML Schema double lexical form and
nothing else (Python-only forms such as '5_78' or Arabic-Indic digits are marked ``invalid``, never read); a
cell written twice refuses the file (LibreOffice 7.4 shows the last copy, Excel repairs the file). A part
compressed otherwise than stored or deflated (bzip2, LZMA...) refuses the file: neither Excel nor LibreOffice
opens it.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple
from xml.parsers import expat

from libstats.model.layout import col_name, is_address, split_address

__all__ = ["XlsxError", "Limits", "Cell", "SheetInfo", "Workbook", "open_xlsx", "read_cells", "parse_number",
           "PartMemo", "MEMO"]

URI_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
URI_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
URI_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
URI_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
NS_MAIN, NS_REL, NS_PKG_REL = "{" + URI_MAIN + "}", "{" + URI_REL + "}", "{" + URI_PKG_REL + "}"  # ElementTree's

# expat names an element "namespace-uri local-name" (namespace_separator " ")
_C, _ROW, _F, _V, _IS, _T, _RPH, _SI = (f"{URI_MAIN} {n}" for n in ("c", "row", "f", "v", "is", "t", "rPh", "si"))
_PROTECTION, _MERGE, _SHEET_DATA = (f"{URI_MAIN} {n}" for n in ("sheetProtection", "mergeCell", "sheetData"))
_SHEET, _DEFINED, _DEFINED_NAMES, _WORKBOOK_PR, _SST = (f"{URI_MAIN} {n}" for n in (
    "sheet", "definedName", "definedNames", "workbookPr", "sst"))
_RELATIONSHIP, _PROPERTY = f"{URI_PKG_REL} Relationship", f"{URI_CUSTOM} property"
_MODIFIED = "http://purl.org/dc/terms/ modified"
_OPENED = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}  # the methods Excel and LibreOffice open
_METHODS = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "XZ", 98: "PPMd"}


class XlsxError(Exception):
    """The file cannot be read as an .xlsx; ``code`` is the finding code (F03 corrupt, F06 too large)."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Limits:
    max_uncompressed: int = 200 * 2**20  # all parts together
    max_part: int = 32 * 2**20  # any one part read (a sheet, the shared strings, the workbook)
    max_ratio: int = 100  # uncompressed / compressed, per part over 1 MB
    max_parts: int = 5000
    max_cells: int = 500_000  # <c> elements met over the sheets read
    max_elements: int = 2_000_000  # elements the parser meets in one part
    max_depth: int = 64  # elements open at once (a sheet needs 6)
    max_names: int = 20_000  # defined names (the spec has a few hundred)
    max_merges: int = 20_000  # merged ranges on one sheet


class Cell(NamedTuple):  # a named tuple: made for every cell read, it must be cheap
    value: object  # float, str, bool, or None
    formula: str | None = None
    error: str | None = None  # "#DIV/0!" etc.
    invalid: str | None = None  # what <v> holds when it is no number a spreadsheet program reads ("5_78", "NaN")


@dataclass
class SheetInfo:
    name: str
    path: str
    state: str = "visible"  # "hidden", "veryHidden"
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
    strings: _Strings | None = field(default=None, repr=False)  # the shared strings, parsed as far as asked
    fast: bool = True  # False: the full parser reads every part (the differential tests' oracle)

    def sheet(self, name: str) -> SheetInfo | None:
        return next((s for s in self.sheets if s.name == name), None)  # the first of a name


class PartMemo:
    """What reading a part found, by the part's bytes: the returns of a round share many parts byte for byte (the
    workbook part, the sheets a province left as the template wrote them), and the same bytes read with the same
    limits and wanted cells give the same answer, so a part met again is not parsed again. Only answers are kept,
    never a failure (a part that refuses the file is parsed again each time, and refuses it again), and only as
    immutable values (tuples, strings), so a hit can never share state between two files. Bounded: the least
    recently met answers are forgotten once the parts kept exceed ``max_bytes``; ``clear()`` forgets all. The
    full parser (``fast=False``) never uses it."""

    def __init__(self, max_bytes: int = 4 * 2**20):
        self.max_bytes, self.held, self.hits, self.misses = max_bytes, 0, 0, 0
        self.found: OrderedDict[tuple, tuple[int, tuple]] = OrderedDict()

    def get(self, key: tuple) -> tuple | None:
        hit = self.found.get(key)
        if hit is None:
            self.misses += 1
            return None
        self.hits += 1
        self.found.move_to_end(key)
        return hit[1]

    def put(self, key: tuple, size: int, answer: tuple) -> None:
        if size > self.max_bytes // 8:  # a part this big is not worth holding
            return
        self.found[key] = size, answer
        self.held += size
        while self.held > self.max_bytes:
            self.held -= self.found.popitem(last=False)[1][0]

    def clear(self) -> None:
        self.found.clear()
        self.held = self.hits = self.misses = 0


MEMO = PartMemo()  # the process's one memo (a check worker has its own)


def _shown(name: str) -> str:
    return "".join(ch if ch.isprintable() else "?" for ch in name)


def _check_sizes(z: zipfile.ZipFile, limits: Limits) -> None:
    infos = z.infolist()
    if len(infos) > limits.max_parts:
        raise XlsxError("F06", f"{len(infos)} phần trong tệp nén")
    total = sum(i.file_size for i in infos)
    if total > limits.max_uncompressed:
        raise XlsxError("F06", f"giải nén ra {total // 2**20} MB")
    for i in infos:
        if i.compress_type not in _OPENED:
            method = _METHODS.get(i.compress_type, f"phương thức số {i.compress_type}")
            raise XlsxError("F03", f"phần {_shown(i.filename)} được nén bằng {method}, kiểu nén mà Excel và "
                                   "LibreOffice không mở được")
        if i.file_size > 2**20 and i.file_size > limits.max_ratio * max(1, i.compress_size):
            raise XlsxError("F06", f"tỷ lệ nén bất thường ở {_shown(i.filename)}")


def _part(z: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """A part's bytes, never more than ``limits.max_part`` of them (the declared size may lie)."""
    info = z.getinfo(name)
    if info.file_size > limits.max_part:
        raise XlsxError("F06", f"phần {name} giải nén ra {info.file_size // 2**20} MB")
    with z.open(info) as fh:
        data = fh.read(limits.max_part + 1)
    if len(data) > limits.max_part:
        raise XlsxError("F06", f"phần {name} quá lớn")
    return data


Start = Callable[[str, dict, int], None]  # (element name, its attributes, its depth: the root is 1)
End = Callable[[str, str | None, int], None]  # (element name, its text before its first child or None, depth)


def _ignore(*_) -> None:
    return None


class _parser:  # noqa: N801 - used as a function: ``feed = _parser(...)``, then ``feed(data)``
    """``feed(data, final=True, quiet=0)`` for one part, read by expat: names resolved to "uri local", a DTD
    refused, the elements met and their depth bounded; ``start`` and ``end`` are called for every element
    (``end=None``: no text is gathered and no end called, for a part read for its start tags only).
    ``quiet``: the elements the data fed holds, parsed with no handler (expat still checks every byte of it, in
    its context, at C speed); ``ends=False``: that data read for its start tags only. ``feed.index()``: where
    the event being handled begins; ``feed.utf8()``: the part is declared UTF-8 (or nothing)."""

    def __init__(self, name: str, limits: Limits, start: Start, end: End | None = _ignore):
        self.name, self.limits, self.start, self.end = name, limits, start, end
        self.texts: list[list[str]] = []  # one per open element: its text, while no child has begun
        self.count = 0
        self.current: list[str] | None = None
        self.declared: list[str | None] = []
        p = self.p = expat.ParserCreate(namespace_separator=" ")
        p.buffer_text = True
        p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = self.on_start, self.on_end, self.on_text
        if end is None:  # the depth is all an end changes
            p.EndElementHandler, p.CharacterDataHandler = self.pop, None
        p.StartDoctypeDeclHandler = self.on_dtd
        p.XmlDeclHandler = lambda _version, encoding, _standalone: self.declared.append(encoding)

    def counted(self, n: int) -> None:
        self.count += n
        if self.count > self.limits.max_elements:
            raise XlsxError("F06", f"quá nhiều phần tử XML trong phần {self.name}")

    def on_start(self, tag: str, attrs: dict) -> None:
        self.counted(1)
        if len(self.texts) >= self.limits.max_depth:
            raise XlsxError("F03", f"các phần tử XML lồng nhau quá sâu trong phần {self.name}")
        self.current = []
        self.texts.append(self.current)
        self.start(tag, attrs, len(self.texts))

    def on_end(self, tag: str) -> None:
        depth, text = len(self.texts), self.texts.pop()
        self.current = None  # what follows is the tail of this element, no element's text
        self.end(tag, "".join(text) if text else None, depth)

    def on_text(self, data: str) -> None:
        if self.current is not None:
            self.current.append(data)

    def pop(self, _tag: str) -> None:
        self.texts.pop()

    def on_dtd(self, *_) -> None:
        raise XlsxError("F03", f"phần {self.name} có khai báo DTD (không được phép)")

    def __call__(self, data: bytes, final: bool = True, quiet: int = 0, ends: bool = True) -> int:
        p = self.p
        handlers = p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler
        if quiet:
            p.StartElementHandler = p.EndElementHandler = p.CharacterDataHandler = None
        elif not ends:  # start tags only, for this data
            p.EndElementHandler, p.CharacterDataHandler = self.pop, None
        try:
            p.Parse(data, final)
        except expat.ExpatError as exc:
            raise XlsxError("F03", f"phần {self.name} không phải XML hợp lệ (lỗi ở dòng "
                                   f"{exc.lineno}, cột {exc.offset + 1})") from exc
        finally:
            p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = handlers
        self.counted(quiet)
        return self.count

    def index(self) -> int:
        return self.p.CurrentByteIndex

    def utf8(self) -> bool:
        d = self.declared
        return not d or d[0] is None or d[0].lower() in ("utf-8", "utf8")


def _read(z: zipfile.ZipFile, name: str, limits: Limits, start: Start, end: End | None = _ignore) -> None:
    _parser(name, limits, start, end)(_part(z, name, limits))


def _rels(data: bytes | None, name: str, limits: Limits) -> dict[str, str]:
    out: dict[str, str] = {}

    def start(tag: str, a: dict, _depth: int) -> None:
        if tag == _RELATIONSHIP:
            out[a.get("Id")] = a.get("Target")
    if data is not None:
        _parser(name, limits, start, None)(data)
    return out


def _sheet_path(target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)


def _workbook(z: zipfile.ZipFile, limits: Limits, fast: bool) -> tuple[list[SheetInfo], dict[str, str], bool]:
    """The sheets, the defined names and the date system; on the fast path remembered by the bytes of the
    workbook part and its relationships (``MEMO``)."""
    name = "xl/_rels/workbook.xml.rels"
    rels = _part(z, name, limits) if name in z.NameToInfo else None
    data = _part(z, "xl/workbook.xml", limits)
    if not fast:
        return _read_workbook(_rels(rels, name, limits), data, limits, fast)
    key = ("workbook", rels, data, limits)
    hit = MEMO.get(key)
    if hit is None:
        sheets, names, date1904 = _read_workbook(_rels(rels, name, limits), data, limits, fast)
        hit = tuple((s.name, s.path, s.state) for s in sheets), tuple(names.items()), date1904
        MEMO.put(key, len(data) + len(rels or b""), hit)
    return [SheetInfo(*s) for s in hit[0]], dict(hit[1]), hit[2]


def _read_workbook(rels: dict[str, str], data: bytes, limits: Limits, fast: bool
                   ) -> tuple[list[SheetInfo], dict[str, str], bool]:
    """The sheets, the global defined names (counted as the parser meets them: a comment holds none) and the
    date system. ``fast``: a plain definedNames block is read by its grammar (``_quiet``)."""
    sheets: list[SheetInfo] = []
    names: dict[str, str] = {}
    date1904, met, attrs, holders = False, 0, {}, []

    def start(tag: str, a: dict, depth: int) -> None:
        nonlocal date1904, met, attrs
        if tag == _SHEET:
            sheets.append(SheetInfo(a.get("name"), _sheet_path(rels.get(a.get(URI_REL + " id"), "")),
                                    a.get("state", "visible")))
        elif tag == _DEFINED:
            met += 1
            if met > limits.max_names:
                raise XlsxError("F06", "quá nhiều tên (defined names)")
            attrs = a
        elif tag == _WORKBOOK_PR:
            date1904 = a.get("date1904") in ("1", "true")
        elif tag == _DEFINED_NAMES:
            holders.append((feed.index(), depth))

    def end(tag: str, text: str | None, _depth: int) -> None:
        if tag == _DEFINED and attrs.get("localSheetId") is None:
            if attrs.get("name") is None:
                raise XlsxError("F03", "một tên (defined name) không có thuộc tính name")
            names[attrs["name"].lower()] = (text or "").strip()
    feed = _parser("xl/workbook.xml", limits, start, end)
    bulk = _bulk(data, b"<definedNames>", _NAMES_BLOCK) if fast else None
    if bulk is None:
        feed(data)
    else:
        if _quiet(feed, data, bulk[0] - 14, *bulk, holders, 1, limits):
            met = _block_names(data[bulk[0]:bulk[1]], names, met, limits)
        feed(data[bulk[1]:])
    return sheets, names, date1904


def _custom(z: zipfile.ZipFile, limits: Limits) -> dict[str, str]:
    """The custom properties: each one's name → the text of its first child element (its value)."""
    out: dict[str, str] = {}
    prop: list = []  # [name, depth, value or None] of the property open

    def start(tag: str, a: dict, depth: int) -> None:
        if tag == _PROPERTY:
            prop[:] = [a.get("name"), depth, None]

    def end(tag: str, text: str | None, depth: int) -> None:
        if not prop:
            return
        if depth == prop[1] + 1 and prop[2] is None:
            prop[2] = text or ""
        elif depth == prop[1] and tag == _PROPERTY:
            out[prop[0]] = prop[2] or ""
            prop.clear()
    if "docProps/custom.xml" in z.NameToInfo:
        _read(z, "docProps/custom.xml", limits, start, end)
    return out


def _modified(z: zipfile.ZipFile, limits: Limits) -> str:
    """When the file was last saved (docProps/core.xml); "" when unknown or the part is unreadable (no
    spreadsheet program shows it, so it refuses nothing)."""
    found: list[str] = []

    def end(tag: str, text: str | None, _depth: int) -> None:
        if tag == _MODIFIED and not found:
            found.append((text or "").strip())
    if "docProps/core.xml" in z.NameToInfo:
        data = _part(z, "docProps/core.xml", limits)
        try:
            _parser("docProps/core.xml", limits, _ignore, end)(data)
        except XlsxError:
            return ""
    return found[0] if found else ""


def _duplicate(addr: str) -> XlsxError:
    return XlsxError("F03", f"ô {addr} được ghi hai lần trong tệp")


class _Runs:
    """The text of a string item (a shared string's <si>, an inline <is>), as Excel shows it: its <t>, or the <t>
    of its rich-text runs; phonetic runs (rPh) are not shown. Fed the item's elements below it."""

    def __init__(self, depth: int):
        self.depth, self.run, self.parts = depth, None, []

    def start(self, tag: str, depth: int) -> None:
        if depth == self.depth + 1:
            self.run = tag  # the item's child this element is, or is below

    def end(self, tag: str, text: str | None, depth: int) -> None:
        if tag == _T and (depth == self.depth + 1 or (depth > self.depth + 1 and self.run not in (_T, _RPH))):
            self.parts.append(text or "")

    def text(self) -> str:
        return "".join(self.parts)


class _OpenCell:
    """A wanted cell being read: its first <f>, <v> and <is> children."""

    __slots__ = ("addr", "depth", "kind", "formula", "value", "has_value", "inline", "inline_done")

    def __init__(self, addr: str, depth: int, kind: str):
        self.addr, self.depth, self.kind = addr, depth, kind
        self.formula = self.value = self.inline = None
        self.has_value = self.inline_done = False

    def start(self, tag: str, depth: int) -> None:
        if self.inline is not None and not self.inline_done:
            self.inline.start(tag, depth)
        elif depth == self.depth + 1 and tag == _IS and self.inline is None:
            self.inline = _Runs(depth)

    def end(self, tag: str, text: str | None, depth: int) -> None:
        if depth == self.depth + 1:
            if tag == _F and self.formula is None:
                self.formula = text or ""
            elif tag == _V and not self.has_value:
                self.value, self.has_value = text, True
            elif tag == _IS and self.inline is not None:
                self.inline_done = True
        elif self.inline is not None and not self.inline_done:
            self.inline.end(tag, text, depth)

    def found(self) -> tuple:
        """(type, <v> text, formula, inline text) as ``_cell`` takes them."""
        inline = self.inline.text() if self.kind == "inlineStr" and self.inline is not None else None
        return self.kind, self.value, self.formula, inline


def _spend(budget: list[int], cells: int) -> None:
    """Count cells against the file's cap (what is left in ``budget[0]``)."""
    budget[0] -= cells
    if budget[0] < 0:
        raise XlsxError("F06", "quá nhiều ô")


def _next_address(a: dict, row_num: int, col_num: int) -> tuple[str, int]:
    """A cell's address and the column after it: its r attribute, or (r is optional) its position in the row."""
    addr = a.get("r")
    if addr is None:
        return f"{col_name(col_num)}{row_num}", col_num + 1
    return addr, (split_address(addr)[1] + 1 if is_address(addr) else col_num + 1)


def _sheet_setting(sheet: SheetInfo, tag: str, a: dict, limits: Limits) -> None:
    """The sheet's protection or one of its merged ranges (bounded)."""
    if tag == _PROTECTION:
        sheet.protected = a.get("sheet") in ("1", "true")
        return
    sheet.merged.append(a.get("ref"))
    if len(sheet.merged) > limits.max_merges:
        raise XlsxError("F06", "quá nhiều vùng gộp ô")


def _scan_sheet(data: bytes, sheet: SheetInfo, wanted: set[str], budget: list[int], limits: Limits,
                fast: bool = False) -> dict[str, tuple]:
    """Protection, merges, and (type, value, formula, inline text) of the wanted cells of one sheet part.
    ``fast``: a plain sheetData is read by its grammar (``_quiet``)."""
    found: dict[str, tuple] = {}
    row_num = col_num = 0
    cell: _OpenCell | None = None
    sheet.protected, sheet.merged, holders, after = False, [], [], False
    left = budget[0]

    def start(tag: str, a: dict, depth: int) -> None:
        nonlocal row_num, col_num, cell
        if tag == _C:
            if after:
                raise _Again
            _spend(budget, 1)
            addr, col_num = _next_address(a, row_num, col_num)
            if addr in wanted:
                if addr in found:
                    raise _duplicate(addr)
                cell = _OpenCell(addr, depth, a.get("t", "n"))
            else:
                cell = None
        elif cell is not None:
            cell.start(tag, depth)
        elif tag == _ROW:
            row_num, col_num = int(a.get("r") or row_num + 1), 0
        elif tag in (_PROTECTION, _MERGE):
            _sheet_setting(sheet, tag, a, limits)
        elif tag == _SHEET_DATA:
            holders.append((feed.index(), depth))

    def end(tag: str, text: str | None, depth: int) -> None:
        nonlocal cell
        if cell is None:
            return
        if tag == _C:
            if depth == cell.depth:
                found[cell.addr] = cell.found()
            cell = None
        else:
            cell.end(tag, text, depth)
    feed = _parser(sheet.path, limits, start, end if wanted else None)
    bulk = _bulk(data, b"<sheetData>", _ROWS) if fast else None
    if bulk is None:
        feed(data)
        return found
    try:
        if _quiet(feed, data, bulk[0] - 11, *bulk, holders, 4, limits):
            body = data[bulk[0]:bulk[1]]
            _spend(budget, body.count(b'<c r="'))  # every cell of a plain sheetData is written so
            _bulk_cells(body, wanted, found)
            after = True  # a cell from here on is read again by the full parser: no end is needed
        feed(data[bulk[1]:], ends=not after)
    except _Again:
        budget[0] = left
        return _scan_sheet(data, sheet, wanted, budget, limits)
    return found


def _sheet_cells(data: bytes, sheet: SheetInfo, wanted: set[str], budget: list[int], limits: Limits,
                 fast: bool) -> dict[str, tuple]:
    """``_scan_sheet``, on the fast path remembered by the sheet part's bytes and the cells wanted (``MEMO``):
    its protection, merges, wanted cells and the cells it holds (counted against the budget on a hit too)."""
    if not fast:
        return _scan_sheet(data, sheet, wanted, budget, limits)
    key = ("sheet", data, frozenset(wanted), limits)
    hit = MEMO.get(key)
    if hit is None:
        left = budget[0]
        found = _scan_sheet(data, sheet, wanted, budget, limits, True)
        MEMO.put(key, len(data), (tuple(found.items()), sheet.protected, tuple(sheet.merged), left - budget[0]))
        return found
    cells, sheet.protected, merged, met = hit
    sheet.merged = list(merged)
    budget[0] -= met
    if budget[0] < 0:
        raise XlsxError("F06", "quá nhiều ô")
    return dict(cells)


# The one fast path. The bulk of three parts, a sheet's sheetData, the shared strings' items and the workbook's
# definedNames, when a strict grammar takes all of it (the plain shape spreadsheet programs write: attributes
# written ' name="value"', none declaring a namespace, no comment, CDATA or processing instruction; possessive
# and atomic, so each match runs in linear time), is fed to the same parse with no handler (``_quiet``): expat
# still checks every byte of it in its context (well-formed, every prefix bound, characters and references
# valid), and the grammar's match gives what the handlers would have taken. The rest of the part is read by the
# handlers as always. So the two paths are one parse; the differential tests check the grammar's reading.
_ATTRS = rb'(?: (?!xmlns)[A-Za-z_][\w.:-]*+="[^"<]*+")*+'
_CELL_REST = (rb'(?: s="[0-9]+")?(?: t="([a-z][A-Za-z]*)")?(?:/>|>(?:(<f)' + _ATTRS + rb'(?:/>|>([^<]*+)</f>))?'
              rb'(?:<v>([^<]*+)</v>)?(?:(<is>)<t(?: xml:space="preserve")?>([^<]*+)</t></is>)?</c>)')
_ROWS = re.compile(rb'(?:<row' + _ATTRS + rb'(?:/>|>(?><c r="[A-Z]{1,3}[0-9]{1,7}"' + _CELL_REST + rb')*+</row>))*+')
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"')
_CELL_BODY = re.compile(_CELL_REST)  # a plain cell after its address: type, '<f', formula, value, '<is>', inline text
_COMMON = re.compile(rb'(?: s="[0-9]+")?(?:(/>)|><v>([0-9]{1,15})</v></c>| t="s"><v>([0-9]{1,9})</v></c>)')
_RUN_T = rb'<t(?: xml:space="preserve")?>[^<]*+</t>'
# a string item: one <t>, or rich-text runs (their formatting as empty elements), then phonetic runs
_ITEMS = re.compile(rb"(?>(?:<si>(?:" + _RUN_T + rb"|<t/>|(?:<r>(?:<rPr>(?:<[a-zA-Z]++" + _ATTRS + rb"/>)*+</rPr>)?"
                    + _RUN_T + rb"</r>)++)(?:<rPh" + _ATTRS + rb">" + _RUN_T + rb"</rPh>)*+(?:<phoneticPr" + _ATTRS
                    + rb"/>)?</si>))*+")
_T_TEXT = re.compile(rb"<t[^<>]*>([^<]*)</t>")
_SST_ROOT = re.compile(rb'<sst(?: [A-Za-z_][\w.:-]*+="[^"<]*+")*+>')
_DEFINED_NAME = re.compile(rb"<definedName(" + _ATTRS + rb")(?:/>|>([^<]*+)</definedName>)")
_NAMES_BLOCK = re.compile(rb"(?:<definedName" + _ATTRS + rb"(?:/>|>[^<]*+</definedName>))*+")
_PAIR = re.compile(rb' ([A-Za-z_][\w.:-]*)="([^"]*)"')
_REFS = re.compile(r"&(?:#x([0-9A-Fa-f]+)|#([0-9]+)|(lt|gt|amp|quot|apos));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}


def _text(raw: bytes | None, attribute: bool = False) -> str | None:
    """Character data (``attribute``: an attribute value) of a UTF-8 part expat checked → str, as the parser
    gives it: line ends made LF (in an attribute, white space made spaces), then the references resolved (no
    DTD: only the five predefined entities and character references can occur)."""
    if raw is None:
        return None
    text = raw.decode("utf-8")
    if not (b"&" in raw or b"\r" in raw or (attribute and (b"\t" in raw or b"\n" in raw))):
        return text  # the common case
    if attribute:
        text = text.replace("\r\n", " ").translate({9: " ", 10: " ", 13: " "})
    elif "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _REFS.sub(lambda m: chr(int(m[1], 16)) if m[1] else chr(int(m[2])) if m[2] else _NAMED[m[3]], text)


def _bulk(data: bytes, open_tag: bytes, grammar: re.Pattern) -> tuple[int, int] | None:
    """Where the body of the one element written ``open_tag`` (and closed once) is, when the grammar takes all
    of it; None otherwise."""
    at = data.find(open_tag)
    stop = data.find(b"</" + open_tag[1:], at)
    if at < 0 or stop < 0 or data.count(open_tag[1:-1]) != 2 or not grammar.fullmatch(data, at + len(open_tag),
                                                                                          stop):
        return None
    return at + len(open_tag), stop


def _quiet(feed: Callable[..., int], data: bytes, tag_at: int, start: int, stop: int, holders: list,
           below: int, limits: Limits) -> bool:
    """Feed the part up to its bulk data[start:stop], then the bulk: with no handler when the parser met the
    element holding it where it was found (``holders``: (byte index, depth) of each such element met; the start
    tag at ``tag_at``), its elements at most ``below`` levels deeper stay within the depth bound, and the part is
    UTF-8; else with the handlers. Whether it was quiet."""
    feed(data[:start], False)
    quiet = (len(holders) == 1 and holders[0][0] == tag_at and holders[0][1] + below <= limits.max_depth
             and feed.utf8() and b"\x00" not in data[:start])
    body = data[start:stop]
    feed(body, False, body.count(b"<") - body.count(b"</") if quiet else 0)
    return quiet


class _Again(Exception):
    """A cell after a sheetData read quietly: the full parser reads the part again (a cell there may lack its
    address, counted on rows the quiet read did not see)."""


def _bulk_cells(body: bytes, wanted: set[str], found: dict[str, tuple]) -> None:
    """Add to ``found`` the wanted cells of a plain sheetData body, as ``_scan_sheet``'s handlers take them."""
    pieces = _CELL_START.split(body)  # in one pass: [before, address, its cell, address, its cell...]
    addresses = pieces[1::2]
    cells = dict(zip(addresses, pieces[2::2], strict=True))
    seen: set[bytes] = set()
    twice = {a for a in addresses if a in seen or seen.add(a)} if len(cells) != len(addresses) else ()
    for addr in wanted:
        key = addr.encode()
        piece = cells.get(key)
        if piece is None:
            continue
        if key in twice or addr in found:
            raise _duplicate(addr)
        common = _COMMON.match(piece)
        if common:  # most cells: empty, a whole number or a shared string
            empty, number, string = common.groups()
            found[addr] = ("n", None, None, None) if empty else ("n", number.decode(), None, None) if number else (
                "s", string.decode(), None, None)
            continue
        kind, f, formula, value, is_, inline = _CELL_BODY.match(piece).groups()
        kind = kind.decode() if kind else "n"
        found[addr] = (kind, _text(value) if value else None, (_text(formula) or "") if f else None,
                       (_text(inline) or "") if is_ and kind == "inlineStr" else None)


def _bulk_names(body: bytes, names: dict[str, str], met: int, limits: Limits) -> int:
    """Add to ``names`` the global names of a plain definedNames body, as ``_workbook``'s handlers take
    them; the definedName elements met, ``met`` before it."""
    for attrs, value in _DEFINED_NAME.findall(body):
        met += 1
        if met > limits.max_names:
            raise XlsxError("F06", "quá nhiều tên (defined names)")
        if attrs.startswith(b' name="') and attrs.find(b'"', 7) == len(attrs) - 1:  # the common case: the name alone
            names[_text(attrs[7:-1], attribute=True).lower()] = (_text(value) or "").strip()
            continue
        pairs = dict(_PAIR.findall(attrs))
        if b"localSheetId" not in pairs:
            if b"name" not in pairs:
                raise XlsxError("F03", "một tên (defined name) không có thuộc tính name")
            names[_text(pairs[b"name"], attribute=True).lower()] = (_text(value) or "").strip()
    return met


def _block_names(body: bytes, names: dict[str, str], met: int, limits: Limits) -> int:
    """``_bulk_names``, remembered by the block's bytes (``MEMO``): the returns of a round, even re-saved one by
    one, share it. A block remembered was read whole without a fault, so on a hit only the count can refuse."""
    key = ("names", body, limits)
    hit = MEMO.get(key)
    if hit is None:
        found: dict[str, str] = {}
        count = _bulk_names(body, found, met, limits) - met
        hit = tuple(found.items()), count
        MEMO.put(key, len(body), hit)
    elif met + hit[1] > limits.max_names:
        raise XlsxError("F06", "quá nhiều tên (defined names)")
    names.update(hit[0])
    return met + hit[1]


def _item_text(item: bytes) -> str:
    """The text of a plain string item (``_ITEMS``): its <t> runs, without the phonetic ones that follow them."""
    body = item[:item.rfind(b"</si>")]
    cut = body.find(b"<rPh")
    return "".join(_text(t) for t in _T_TEXT.findall(body, 0, cut if cut >= 0 else len(body)))


class _Strings:
    """The shared-strings part, parsed as far as the strings asked for so far: fed in pieces, and resumed when a
    later read asks for more (the part is asked three times: metadata, cover, fields)."""

    PIECE = 2**16

    def __init__(self, data: bytes, limits: Limits, fast: bool):
        self.data, self.at, self.items = data, 0, []
        self.plain: list[bytes] | None = None  # the items' bytes, each from just after its '<si>', when plain
        self.item: tuple[int, _Runs] | None = None  # the depth of the <si> open, and its text
        holders: list[tuple[int, int]] = []

        def start(tag: str, _a: dict, depth: int) -> None:
            if tag == _SST:
                holders.append((self.feed.index(), depth))
            elif self.item is not None:
                self.item[1].start(tag, depth)
            elif tag == _SI:
                self.item = depth, _Runs(depth)

        def end(tag: str, text: str | None, depth: int) -> None:
            if self.item is None:
                return
            if depth == self.item[0]:
                self.items.append(self.item[1].text())
                self.item = None
            else:
                self.item[1].end(tag, text, depth)
        self.feed = _parser("xl/sharedStrings.xml", limits, start, end)
        root = _SST_ROOT.search(data) if fast else None
        stop = data.rfind(b"</sst>")
        if root and stop >= root.end() and _ITEMS.fullmatch(data, root.end(), stop):  # read at once
            if _quiet(self.feed, data, root.start(), root.end(), stop, holders, 4, limits):
                self.plain = data[root.end():stop].split(b"<si>")[1:]
            self.feed(data[stop:])
            self.at = len(data)

    def get(self, needed: set[int]) -> dict[int, str]:
        if self.plain is not None:
            return {i: _item_text(self.plain[i]) if i < len(self.plain) else _missing(i) for i in sorted(needed)}
        top = max(needed)
        while len(self.items) <= top and self.at < len(self.data):
            piece = self.data[self.at:self.at + self.PIECE]
            self.at += len(piece)
            self.feed(piece, self.at >= len(self.data))
        return {i: self.items[i] if i < len(self.items) else _missing(i) for i in sorted(needed)}


def _missing(index: int) -> str:
    raise XlsxError("F03", f"ô trỏ tới chuỗi số {index} không có trong bảng chuỗi")


def _shared_strings(wb: Workbook, needed: set[int]) -> dict[int, str]:
    if not needed:
        return {}
    if wb.strings is None:
        if "xl/sharedStrings.xml" not in wb.zip.NameToInfo:
            raise XlsxError("F03", "thiếu bảng chuỗi (sharedStrings)")
        wb.strings = _Strings(_part(wb.zip, "xl/sharedStrings.xml", wb.limits), wb.limits, wb.fast)
    return wb.strings.get(needed)


_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape_ooxml(text: str | None) -> str | None:
    """OOXML's _xHHHH_ escapes in string values (as Excel and LibreOffice resolve them)."""
    return _XESC.sub(lambda m: chr(int(m[1], 16)), text) if text and "_x" in text else text


_XSD_DOUBLE = re.compile(r"[ \t\r\n]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[ \t\r\n]*")


def parse_number(raw: str) -> float | None:
    """A number as spreadsheet programs read <v>: the XML Schema double form, finite; None for anything else
    (Python's float() also takes '5_78', Arabic-Indic digits, 'NaN', 'inf': no spreadsheet shows those)."""
    if raw.isdigit() and raw.isascii():  # the common case: a whole number
        return float(raw)
    if not _XSD_DOUBLE.fullmatch(raw):
        return None
    value = float(raw)
    return value + 0.0 if value not in (float("inf"), float("-inf")) else None  # + 0.0: -0 is shown as 0


def _string_index(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isascii() and raw.isdigit() else None


def _cell(kind: str, raw: str | None, formula: str | None, inline: str | None, strings: dict[int, str]) -> Cell:
    if kind == "n" and raw:
        value = parse_number(raw)
        return Cell(value, formula, invalid=None if value is not None else raw)
    if kind == "s":
        index = _string_index(raw)
        if index is None and raw not in (None, ""):
            return Cell(None, formula, invalid=raw)
        return Cell(_unescape_ooxml(strings.get(index)) if index is not None else None, formula)
    if kind == "inlineStr":
        return Cell(_unescape_ooxml(inline), formula)
    if kind in ("str", "d"):
        return Cell(_unescape_ooxml(raw) if kind == "str" else raw, formula)
    if kind == "b":
        if raw in (None, ""):
            return Cell(None, formula)
        value = {"1": True, "true": True, "0": False, "false": False}.get(raw.strip())
        return Cell(value, formula, invalid=None if value is not None else raw)
    if kind == "e":
        return Cell(None, formula, raw or "#N/A")
    if raw is None or raw == "":
        return Cell(None, formula)
    value = parse_number(raw)
    return Cell(value, formula, invalid=None if value is not None else raw)


def _corrupt(exc: Exception) -> XlsxError:
    """BadZipFile, EOFError, zlib errors...: a corrupt file."""
    return XlsxError("F03", type(exc).__name__ + (f": {exc}" if str(exc) else ""))


def open_xlsx(data: bytes, limits: Limits = Limits(), z: zipfile.ZipFile | None = None, fast: bool = True
              ) -> Workbook:
    """Open .xlsx bytes (or the zip already opened on them): sizes and compression methods checked, sheets,
    defined names and custom properties read; no cells yet. ``fast=False``: the full parser reads every part."""
    try:
        z = z or zipfile.ZipFile(io.BytesIO(data))
        _check_sizes(z, limits)
        sheets, names, date1904 = _workbook(z, limits, fast)
        custom, modified = _custom(z, limits), _modified(z, limits)
    except XlsxError:
        raise
    except Exception as exc:
        raise _corrupt(exc) from exc
    return Workbook(sheets, names, custom, date1904, "xl/vbaProject.bin" in z.NameToInfo, {}, z, limits, modified,
                    fast=fast)


def read_cells(wb: Workbook, wanted: dict[str, set[str]]) -> dict[tuple[str, str], Cell]:
    """Read the cells ``wanted`` ({sheet name: {"B9", ...}}); also fills each sheet's protection and merges.
    Only the sheets named in ``wanted`` are opened."""
    try:
        budget = [wb.limits.max_cells]
        raw: dict[tuple[str, str], tuple] = {}
        for sheet in wb.sheets:
            if sheet.path in wb.zip.NameToInfo and sheet.name in wanted:
                found = _sheet_cells(_part(wb.zip, sheet.path, wb.limits), sheet, wanted[sheet.name], budget,
                                     wb.limits, wb.fast)
                raw.update(((sheet.name, addr), r) for addr, r in found.items())
        needed = {i for r in raw.values() if r[0] == "s" and (i := _string_index(r[1])) is not None}
        strings = _shared_strings(wb, needed)
        cells = {key: _cell(*r, strings) for key, r in raw.items()}
    except XlsxError:
        raise
    except Exception as exc:
        raise _corrupt(exc) from exc
    wb.cells.update(cells)
    return cells
