"""A small, bounded reader of the parts of an .xlsx that libstats needs.

It reads only what it is asked for: the sheet list, defined names, custom properties, and the values and
formulas of a given set of cells, plus each sheet's protection and merged ranges. Sheets holding no wanted
cell are never read. Every part is size-capped before it is read. A part in the plain shape spreadsheet
programs write (no comment, CDATA, DTD or processing instruction, no entity beyond the five predefined ones,
no CR, one default namespace declared on the root and never rebound, every tag closed, the elements read
spelled the usual way) is read with linear byte searches and C-speed pattern matches; any other part goes to
the full parser (defusedxml, DTDs forbidden, element count and depth bounded). A sheet's sheetData is plain
when one match of a strict grammar takes all of it (rows of cells, each with its address, at most a formula,
a value and a one-run inline string); its cells are then cut apart in one pass, once per workbook. The parts
returns of a round share byte for byte (the workbook part, each sheet's tail after its sheetData: validations,
merges, protection) are checked once per distinct content, and so are the parts returns re-saved one by one
still share: the defined names (the block of definedName elements), a sheet's dataValidations element and
(mostly) its head.
tests/test_reader_differential.py proves the fast path equal to the full parser over a corpus built by code,
and tests/test_libreoffice_reader.py compares both with what LibreOffice shows. Known limit: outside the
sheetData the plain-shape test counts tags (every '<' opening a tag, each '/>' counted only where it ends an
empty-element tag) but does not match end tags to start tags by name nor check every attribute's syntax, so a
part that is malformed only there may be read by the fast path and refused by the full one.

Values are read the way spreadsheet programs read them: a number is the XML Schema double lexical form and
nothing else (Python-only forms such as '5_78' or Arabic-Indic digits are marked ``invalid``, never read);
a cell written twice refuses the file (LibreOffice 7.4 shows the last copy, Excel repairs the file).
"""

from __future__ import annotations

import io
import posixpath
import re
import struct
import weakref
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import NamedTuple

from defusedxml.ElementTree import iterparse

from libstats.model.layout import col_name, is_address, split_address

__all__ = ["XlsxError", "Limits", "Cell", "SheetInfo", "Workbook", "open_xlsx", "read_cells", "parse_number"]

URI_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
URI_PKG_REL = b"http://schemas.openxmlformats.org/package/2006/relationships"
URI_CUSTOM = b"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
URI_VT = b"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
NS_MAIN = "{" + URI_MAIN.decode() + "}"
NS_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
NS_PKG_REL = "{" + URI_PKG_REL.decode() + "}"
NS_CUSTOM = "{" + URI_CUSTOM.decode() + "}"


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
    max_cells: int = 500_000  # <c> elements scanned over the sheets read
    max_elements: int = 2_000_000  # elements the full parser meets in one part
    max_depth: int = 64  # elements open at once (a sheet needs 6)
    max_names: int = 20_000  # defined names (the spec has a few hundred)
    max_merges: int = 20_000  # merged ranges on one sheet


class Cell(NamedTuple):  # a named tuple: made for every cell read, it must be cheap
    value: object  # float, str, bool, or None
    formula: str | None = None
    error: str | None = None  # "#DIV/0!" etc.
    invalid: str | None = None  # what <v> holds when it is no number a spreadsheet program reads ("5_78", "NaN")


_EMPTY_CELL = Cell(None)


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
    names: dict[str, str]  # defined name (lower-case) → its formula text, e.g. "'Bìa'!$B$9"; read-only
    custom: dict[str, str]
    date1904: bool
    macros: bool
    cells: dict[tuple[str, str], Cell]  # (sheet name, "B9") → cell, for the cells read so far
    zip: zipfile.ZipFile = field(repr=False, default=None)
    limits: Limits = field(default_factory=Limits)
    modified: str = ""  # docProps/core.xml dcterms:modified: when the province last saved the file
    fast: bool = True  # False: read every part with the full parser (the differential test's oracle)
    strings: dict[int, str] = field(default_factory=dict, repr=False)  # shared strings decoded so far
    # the shared-strings part, whether it is plain, and (plain) its items cut apart so far, with how many were asked
    sst: tuple[bytes, bool, list[bytes], int] | None = field(default=None, repr=False)
    plain: dict[str, _PlainSheet | None] = field(default_factory=dict, repr=False)  # sheet part → read once

    def sheet(self, name: str) -> SheetInfo | None:
        by_name = self.__dict__.get("_by_name")  # the sheets never change once the workbook is open
        if by_name is None:
            by_name = self.__dict__["_by_name"] = {}
            for s in self.sheets:
                by_name.setdefault(s.name, s)  # the first of a name, as a search in order finds
        return by_name.get(name)


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


def _part(z: zipfile.ZipFile, name: str, limits: Limits) -> bytes:
    """A part's bytes, never more than ``limits.max_part`` of them (the declared size may lie)."""
    info = z.getinfo(name)
    if info.file_size > limits.max_part:
        raise XlsxError("F06", f"phần {name} giải nén ra {info.file_size // 2**20} MB")
    data = _inflate(z, info)
    if data is None:
        with z.open(name) as fh:
            data = fh.read(limits.max_part + 1)
    if len(data) > limits.max_part:
        raise XlsxError("F06", f"phần {name} quá lớn")
    return data


_ARCHIVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # an archive in memory → a view of its bytes


def _inflate(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes | None:
    """A deflated part inflated straight from the archive in memory, when zipfile would read it without a word:
    not encrypted, its local header naming it as the directory does, inflating to exactly its declared size and
    CRC. None: zipfile reads it (and says what is wrong). Saves zipfile's file objects (a third of the time)."""
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x61 or not isinstance(z.fp, io.BytesIO):
        return None
    archive, at = _ARCHIVES.get(z), info.header_offset
    if archive is None:  # the bytes the archive was opened on (a BytesIO made on them gives them back, no copy)
        archive = _ARCHIVES[z] = memoryview(z.fp.getvalue())
    if at + 30 > len(archive):
        return None
    signature, flags, size, extra = struct.unpack_from("<4s2xH18xHH", archive, at)
    start = at + 30 + size + extra
    if signature != b"PK\x03\x04" or start + info.compress_size > len(archive):
        return None
    try:
        if bytes(archive[at + 30:at + 30 + size]).decode("utf-8" if flags & 0x800 else "cp437") != info.orig_filename:
            return None
        inflater = zlib.decompressobj(-15)
        data = inflater.decompress(archive[start:start + info.compress_size], info.file_size + 1)
    except (UnicodeError, zlib.error):
        return None
    if len(data) != info.file_size or not inflater.eof or zlib.crc32(data) != info.CRC:
        return None
    return data


def _iter(data: bytes, limits: Limits):
    """The full parser's (event, element) stream, with no DTD and bounded element count and depth."""
    elements, depth = 0, 0
    for event, el in iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True):
        if event == "start":
            elements, depth = elements + 1, depth + 1
            if elements > limits.max_elements:
                raise XlsxError("F06", "quá nhiều phần tử XML")
            if depth > limits.max_depth:
                raise XlsxError("F03", "các phần tử XML lồng nhau quá sâu")
        else:
            depth -= 1
        yield event, el


# an XML declaration in UTF-8 (or naming no encoding): the byte searches read UTF-8 only, so a part declared in
# another encoding is not plain (its declaration then counts as a processing instruction)
_DECL = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml(?:(?!encoding)[^>])*(?:encoding=[\"'][Uu][Tt][Ff]-8[\"'][^>]*)?\?>\s*")
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.-]*)(\s[^>]*)?>")
_XMLNS = re.compile(rb"xmlns\s*=")  # a default namespace declared again below the root
_FOREIGN_AMP = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)")


# the markers looked for, compiled once (before check workers are forked: they inherit them)
_SEARCHES = {m: re.compile(re.escape(m)) for m in (b"<!", b"<?", b"]]>", b"='", b" =", b"= ")}


def _has(data: bytes, marker: bytes, start: int = 0) -> bool:
    """``marker`` in data[start:]. Its first and last bytes are looked for alone first (a one-byte search runs at
    memchr speed, and most markers hold a byte that never occurs); then a compiled pattern looks, which runs two to
    three times faster than bytes.find for a marker of two or three bytes."""
    if data.find(marker[-1:], start) < 0 or data.find(marker[:1], start) < 0:
        return False
    search = _SEARCHES.get(marker)
    if search is None:
        search = _SEARCHES[marker] = re.compile(re.escape(marker))
    return search.search(data, start) is not None


_STRAY_LT = re.compile(rb"<(?![A-Za-z_/])")  # a '<' opening no element tag: a comment, CDATA, PI, DTD, or no XML
# an empty-element tag, its attributes read (a '/>' in text or inside an attribute value closes no element)
_EMPTY_ELEMENT = re.compile(rb"<[A-Za-z_][^\s/<>]*+(?:\s++[^\s=<>/]++\s*+=\s*+(?:\"[^\"<]*+\"|'[^'<]*+'))*+\s*+/>")


def _opened(data: bytes, start: int = 0) -> int | None:
    """Start tags less end tags in data[start:] (0: every element opened there is closed, counted, not matched by
    name); None when a '<' there opens no element tag. Each '<' then opens a start, empty-element or end tag;
    end tags are counted by their '</', empty-element tags by the matches of their grammar (each begins at its
    '<' and holds no other, so no two overlap and a '/>' in text or in an attribute value ends none)."""
    if _STRAY_LT.search(data, start):
        return None
    empties = sum(1 for _ in _EMPTY_ELEMENT.finditer(data, start))  # counted, never listed: memory stays flat
    return data.count(b"<", start) - empties - 2 * data.count(b"</", start)


def _plain_text(data: bytes, start: int = 0) -> bool:
    """No comment, CDATA, DTD or processing instruction in data[start:] (their text would look like elements),
    no CR (the parser reads CR LF as LF), no ']]>' (not allowed in XML text), only the five predefined
    entities."""
    return not (_has(data, b"<!") or _has(data, b"<?", start) or (_has(data, b"&") and _FOREIGN_AMP.search(data))
                or _has(data, b"\r") or _has(data, b"]]>"))


def _plain(data: bytes, uri: bytes, left_open: int = 0) -> bool:
    """Whether a part has the one plain shape the byte searches read exactly: plain text (``_plain_text``), the
    namespace ``uri`` declared once, as the default, on an unprefixed root, and nowhere rebound, and as many
    end tags as start tags (an unclosed tag would make a byte search run on into the next element).
    ``left_open``: the part is cut short after that many start tags (a sheet's head, up to its sheetData).
    Every pattern used on such a part stops at the next '<', so none runs in more than linear time."""
    decl = _DECL.match(data)
    start = decl.end() if decl else 0
    if not _plain_text(data, start):
        return False
    root = _ROOT_TAG.match(data, start)
    if not root or not root[2] or b'xmlns="' + uri + b'"' not in root[2]:
        return False
    if data.count(uri) != 1 or _XMLNS.search(data, root.end()):
        return False
    return _opened(data, start) == left_open  # every tag opened is closed: no unclosed element


def _tags_plain(data: bytes, tag: bytes, longer: tuple[bytes, ...] = ()) -> bool:
    """Every ``<tag`` is written '<tag ' (``longer``: other element names that start with ``tag``)."""
    return data.count(b"<" + tag) == data.count(b"<" + tag + b" ") + sum(data.count(b"<" + t) for t in longer)


_ESCAPES = ((b"&lt;", b"<"), (b"&gt;", b">"), (b"&quot;", b'"'), (b"&apos;", b"'"), (b"&amp;", b"&"))


def _text(raw: bytes | None) -> str | None:
    """Character data of a plain part → str (only the five predefined entities can occur there)."""
    if raw is None:
        return None
    if b"&" in raw:
        for k, v in _ESCAPES:
            raw = raw.replace(k, v)
    return raw.decode("utf-8")


_XESC = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape_ooxml(text: str | None) -> str | None:
    """OOXML's _xHHHH_ escapes in string values (as Excel and LibreOffice resolve them)."""
    return _XESC.sub(lambda m: chr(int(m[1], 16)), text) if text and "_x" in text else text


_REL = re.compile(rb"<Relationship\b([^<>]*)>")


_ATTR = {name: re.compile(rb"(?:^|\s)" + name.encode() + rb'="([^"]*)"') for name in ("Id", "Target", "name", "r:id",
                                                                                   "state")}


def _attr(attrs: bytes, name: str) -> str | None:
    m = _ATTR[name].search(attrs)
    return _text(m[1]) if m else None


def _rels(data: bytes, limits: Limits, fast: bool) -> dict[str, str]:
    if fast and _plain(data, URI_PKG_REL) and _tags_plain(data, b"Relationship", (b"Relationships",)) and not (
            _has(data, b"'") or _has(data, b" =") or _has(data, b"= ")):
        return {_attr(a, "Id"): _attr(a, "Target") for a in _REL.findall(data)}
    out = {}
    for event, el in _iter(data, limits):
        if event == "end" and el.tag == NS_PKG_REL + "Relationship":
            out[el.get("Id")] = el.get("Target")
    return out


_SHEET = re.compile(rb"<sheet\b([^<>]*)>")
_DEFNAME = re.compile(rb"<definedName\b([^<>]*)>([^<]*)</definedName>")
_NAME = re.compile(rb'\bname="([^"]*)"')


def _sheet_path(target: str) -> str:
    return target.lstrip("/") if target.startswith("/") else posixpath.normpath("xl/" + target)


_MEMO_MAX = 2**20  # parts up to this size are remembered by content (see _workbook and _tail)


class Memo(dict):
    """What was found, by key, for the last few keys met (the returns of a round share a few): when full, all is
    forgotten at once, a cheap bound."""

    def __init__(self, size: int = 16):
        super().__init__()
        self.size = size

    def put(self, key, found):
        if len(self) >= self.size:
            self.clear()
        self[key] = found
        return found


_WORKBOOKS: Memo = Memo()  # (rels, workbook part, limits) → (sheets as tuples, names, date1904)


def _workbook(z: zipfile.ZipFile, limits: Limits, fast: bool) -> tuple[list[SheetInfo], dict[str, str], bool]:
    """The sheets, the global defined names and the date system. Remembered by content on the fast path: the
    returns of a round mostly share their workbook part byte for byte, and the same bytes give the same answer."""
    rels = _part(z, "xl/_rels/workbook.xml.rels", limits) if "xl/_rels/workbook.xml.rels" in z.NameToInfo else b""
    data = _part(z, "xl/workbook.xml", limits)
    memo = fast and len(data) + len(rels) <= _MEMO_MAX
    key = (rels, data, limits)
    hit = _WORKBOOKS.get(key) if memo else None
    if hit is None:
        sheets, names, date1904 = _read_workbook(_workbook_rels(rels, limits, fast), data, limits, fast)
        if not memo:
            return sheets, names, date1904
        hit = _WORKBOOKS.put(key, (tuple((s.name, s.path, s.state) for s in sheets), names, date1904))
    return [SheetInfo(*s) for s in hit[0]], hit[1], hit[2]  # the names are shared: never changed


_RELS: Memo = Memo()  # (workbook part's relationships, limits) → id → target


def _workbook_rels(rels: bytes, limits: Limits, fast: bool) -> dict[str, str]:
    """The workbook part's relationships (id → target). Remembered by content on the fast path: returns re-saved
    one by one, each with a workbook part of its own, still share it byte for byte (the dict is never changed)."""
    if not rels:
        return {}
    if not fast or len(rels) > _MEMO_MAX:
        return _rels(rels, limits, fast)
    found = _RELS.get((rels, limits))
    return found if found is not None else _RELS.put((rels, limits), _rels(rels, limits, fast))


_NAMES: Memo = Memo()  # a definedName block met → its names, None: not plain (_names)


def _names(data: bytes) -> tuple[int, int, dict[str, str] | None]:
    """Where the block of definedName elements of a workbook part is (from the first '<definedName ' to the last
    '</definedName>'), and the global names it defines when it is plain: plain bytes (``_plain_text``, no main
    namespace URI, no namespace declared, every tag it opens closed), no odd attribute spelling, and nothing in it
    but definedName elements in the spelling read here (one attribute list, text, the end tag) and the
    definedNames tags around them. (0, 0, {}): no '<definedName ' at all; None: not plain (the full parser reads
    the part). The block is remembered by content: returns saved by one program share it, whatever else their
    workbook parts hold, and their workbooks share the dict (never changed). With '>' before the block and '<'
    after it, no marker the checks look for can straddle its edges: the block and the rest, checked apart, are
    checked whole."""
    first = data.find(b"<definedName ")
    if first < 0:
        return 0, 0, {}
    end = data.rfind(b"</definedName>") + 14
    if first == 0 or end < first + 14 or data[first - 1] != 62 or data[end:end + 1] != b"<":
        return 0, 0, None
    block = data[first:end]
    if block in _NAMES:
        return first, end, _NAMES[block]
    defined = _DEFNAME.findall(block)
    names: dict[str, str] | None = None
    tags = block.count(b"<definedName") + block.count(b"</definedName")
    if block.count(b"<") == tags and len(defined) == block.count(b"<definedName ") and _plain_text(block) and (
            URI_MAIN not in block and b"xmlns" not in block and _opened(block) == 0) and not (
            _has(block, b"='") or _has(block, b" =") or _has(block, b"= ")):
        names = {}
        for attrs, value in defined:
            if attrs[:7] == b' name="' and attrs.find(b'"', 7) == len(attrs) - 1:  # the common spelling: the name
                names[attrs[7:-1].decode().lower() if b"&" not in attrs else _text(attrs[7:-1]).lower()] = (
                    (_text(value) or "").strip())  # alone, no other attribute to look in
                continue
            name = _NAME.search(attrs)
            if name and b"localSheetId=" not in attrs:
                names[_text(name[1]).lower()] = (_text(value) or "").strip()
    if len(block) <= _MEMO_MAX:
        _NAMES.put(block, names)
    return first, end, names


def _read_workbook(rels: dict[str, str], data: bytes, limits: Limits, fast: bool
                   ) -> tuple[list[SheetInfo], dict[str, str], bool]:
    if data.count(b"definedName") > 2 * limits.max_names + 2:  # an opening and an end tag each
        raise XlsxError("F06", "quá nhiều tên (defined names)")
    first, end, names = _names(data) if fast else (0, 0, None)
    rest = data[:first] + data[end:] if end else data  # the part without its plain definedName block
    if names is not None and _plain(rest, URI_MAIN) and _tags_plain(rest, b"sheet", (b"sheets",)) and (
            rest.count(b"<definedName") == rest.count(b"<definedNames")) and not (
            _has(rest, b"='") or _has(rest, b" =") or _has(rest, b"= ")):
        sheets = [SheetInfo(_attr(a, "name"), _sheet_path(rels.get(_attr(a, "r:id") or "", "")),
                            _attr(a, "state") or "visible") for a in _SHEET.findall(rest)]
        pr = re.search(rb"<workbookPr\b[^<>]*>", rest)
        date1904 = bool(pr and re.search(rb'\sdate1904="(1|true)"', pr[0]))
        if all(s.name and s.path != "." for s in sheets) and b"xmlns:r=" in rest:
            return sheets, names, date1904
    sheets, names, date1904 = [], {}, False
    for event, el in _iter(data, limits):
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


_PROPERTY = re.compile(rb'<property\b([^<>]*)>\s*<vt:\w+>([^<]*)</vt:\w+>\s*</property>')


def _custom(z: zipfile.ZipFile, limits: Limits, fast: bool) -> dict[str, str]:
    if "docProps/custom.xml" not in z.NameToInfo:
        return {}
    data = _part(z, "docProps/custom.xml", limits)
    if fast and _plain(data, URI_CUSTOM) and _tags_plain(data, b"property") and data.count(URI_VT) == 1:
        found = [(_attr(a, "name"), _text(v)) for a, v in _PROPERTY.findall(data)]
        if len(found) == data.count(b"<property ") and all(k is not None for k, _ in found):
            return dict(found)
    out = {}
    for event, el in _iter(data, limits):
        if event == "end" and el.tag == NS_CUSTOM + "property":
            value = next(iter(el), None)
            out[el.get("name")] = (value.text or "") if value is not None else ""
    return out


def _duplicate(addr: str) -> XlsxError:
    return XlsxError("F03", f"ô {addr} được ghi hai lần trong tệp")


def _runs(el) -> str:
    """The text of a string item: its <t>, or its rich-text runs' <t>; phonetic runs (rPh) are not shown."""
    return "".join(t.text or "" for r in el if r.tag != NS_MAIN + "rPh"
                   for t in ([r] if r.tag == NS_MAIN + "t" else r.iter(NS_MAIN + "t")))


def _scan_sheet(data: bytes, sheet: SheetInfo, wanted: set[str], budget: list[int],
                limits: Limits) -> dict[str, tuple]:
    """The full parser: protection, merges, and (type, value, formula, inline text) of the wanted cells."""
    found = {}
    current, row_num, col_num = None, 0, 0
    for event, el in _iter(data, limits):
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
                if current in found:
                    raise _duplicate(current)
            elif tag == NS_MAIN + "row":
                row_num = int(el.get("r") or row_num + 1)
                col_num = 0
            continue
        if tag == NS_MAIN + "c":
            if current is not None:
                f = el.find(NS_MAIN + "f")
                v = el.find(NS_MAIN + "v")
                is_ = el.find(NS_MAIN + "is")
                inline = _runs(is_) if el.get("t") == "inlineStr" and is_ is not None else None
                found[current] = (el.get("t", "n"), v.text if v is not None else None,
                                  (f.text or "") if f is not None else None, inline)
                current = None
            el.clear()
        elif tag == NS_MAIN + "row":
            el.clear()
        elif tag == NS_MAIN + "sheetProtection":
            sheet.protected = el.get("sheet") in ("1", "true")
        elif tag == NS_MAIN + "mergeCell":
            sheet.merged.append(el.get("ref"))
            if len(sheet.merged) > limits.max_merges:
                raise XlsxError("F06", "quá nhiều vùng gộp ô")
    return found


# Possessive and atomic (*+, (?>...)): these grammars never have two ways to read the same text, so nothing is
# lost by never backtracking, and the matcher keeps no backtracking state (a third faster).
_ATTRS = rb'(?: (?!xmlns)[A-Za-z_][\w.:-]*+="[^"<]*+")*+'  # attributes written ' name="value"', none a namespace
_CELL = (rb'(?><c r="[A-Z]{1,3}[0-9]{1,7}"(?: s="[0-9]+")?(?: t="[a-z][A-Za-z]*")?(?:/>|>(?:<f' + _ATTRS
         + rb'(?:/>|>[^<]*+</f>))?(?:<v>[^<]*+</v>)?(?:<is><t(?: xml:space="preserve")?>[^<]*+</t></is>)?</c>))')
# the whole of a plain sheetData: rows holding cells in the plain spelling, nothing else (no comment, CDATA or
# PI can hide in it, every element is closed); one C-speed match, linear (no two branches can take the same text)
_ROWS = re.compile(rb"(?:<row" + _ATTRS + rb"(?:/>|>" + _CELL + rb"*+</row>))*+")
_CELL_START = re.compile(rb'<c r="([A-Z]{1,3}[0-9]{1,7})"')
# one cell of a plain sheetData, after its address: type, formula (tag, text), value, inline string (tag, text)
_CELL_BODY = re.compile(rb'(?: s="[0-9]+")?(?: t="([A-Za-z]+)")?(?:/>|>(?:(<f)[^<>]*?(?:/>|>([^<]*)</f>))?'
                        rb'(?:<v>([^<]*)</v>)?(?:(<is>)<t[^<>]*>([^<]*)</t></is>)?</c>)')
_CELL_TAG = re.compile(rb"<c[\s/>]")  # a cell element, in any spelling
_PROTECTION = re.compile(rb"<sheetProtection\b[^<>]*>")
_MERGE = re.compile(rb'<mergeCell ref="([A-Z0-9:$]+)"/>')


@dataclass(frozen=True)
class _PlainSheet:
    """A plain sheet part as the byte searches read it, once per workbook (a sheet is read more than once: the
    cover for the province, then every field)."""

    cells: dict[bytes, bytes]  # address → the part's bytes from just after '<c r="B9"' to the next cell
    count: int  # how many cells the part holds
    twice: frozenset[bytes]  # addresses written more than once
    protected: bool
    merged: tuple[str, ...]


class _Seen:
    """Pieces of parts met, newest first, each with what was found of it (and a key it holds for): looked up by
    comparing bytes in place (no copy, no hash), so a piece the returns of a round share is checked once. At most
    ``size`` pieces, each of at most _MEMO_MAX bytes."""

    def __init__(self, size: int):
        self.size, self.items = size, []

    def get(self, data: bytes, start: int, stop: int, key=None) -> tuple[bool, object]:
        """(True, what was found) when data[start:stop] was met (with ``key``); (False, None) otherwise."""
        for known, known_key, found in self.items:
            if len(known) == stop - start and known_key == key and data.startswith(known, start):
                return True, found
        return False, None

    def put(self, piece: bytes, found, key=None) -> None:
        if len(piece) <= _MEMO_MAX:
            self.items[:] = [(piece, key, found), *self.items[:self.size - 1]]


_TAILS, _VALIDATIONS, _HEADS = _Seen(32), _Seen(32), _Seen(64)  # (_tail, _validations, _head)


def _plain_piece(piece: bytes) -> int | None:
    """Start tags less end tags in a piece of a sheet's tail (``_opened``), when its bytes are plain
    (``_plain_text``, no cell, the main namespace neither declared nor rebound); None: not plain."""
    if not _plain_text(piece) or _CELL_TAG.search(piece) or URI_MAIN in piece or _XMLNS.search(piece):
        return None
    return _opened(piece)


def _validations(tail: bytes) -> tuple[int, int, bool]:
    """Where the dataValidations element of a sheet's tail is (most of a form's tail: a validation per input
    cell), and whether it is plain on its own (``_plain_piece``: every tag it opens closed) and holds no
    sheetProtection or mergeCell. Remembered by content: returns re-saved one by one (each with tails of their
    own) still share it byte for byte. (0, 0, True): no such element cut at tag edges, nothing set apart.
    Every marker the checks look for starts with '<' or holds no '>' but last, so with '>' before the element
    and '<' after it none can straddle its edges: the element and the rest, checked apart, are checked whole."""
    cut = tail.find(b"<dataValidations")
    if cut <= 0 or tail[cut - 1] != 62 or tail[cut + 16:cut + 17] not in (b" ", b">"):
        return 0, 0, True
    close = tail.find(b"</dataValidations>", cut)
    stop = close + 18
    if close < 0 or tail[stop:stop + 1] != b"<":
        return 0, 0, True
    met, plain = _VALIDATIONS.get(tail, cut, stop)
    if met:
        return cut, stop, plain
    block = tail[cut:stop]
    plain = _plain_piece(block) == 0 and b"<sheetProtection" not in block and b"<mergeCell" not in block
    _VALIDATIONS.put(block, plain)
    return cut, stop, plain


def _tail(data: bytes, end: int, limits: Limits) -> tuple[bool, tuple[str, ...]] | None:
    """A sheet part from its '</sheetData>' on: (protected, merged ranges) when it is plain (``_plain_piece``:
    plain bytes, every tag it opens closed, and it closes the sheetData and the root), at most one sheetProtection and
    the mergeCells written the usual way; None: not plain. Remembered by content: the returns of a round share
    their sheets' tails (data validations, merges, protection, page setup: most of a sheet's bytes) byte for
    byte, and the same bytes give the same answer (compared whole, in place: no copy, no hash). A tail met for
    the first time is checked without its dataValidations element when that element was met before
    (``_validations``)."""
    met, found = _TAILS.get(data, end, len(data), limits)
    if met:
        return found
    tail, found = data[end:], None
    cut, stop, plain = _validations(tail)
    rest = tail[:cut] + tail[stop:] if stop else tail  # the tail without a plain dataValidations element
    if plain and _plain_piece(rest) == -2:
        at = rest.find(b"<sheetProtection")
        prot = _PROTECTION.match(rest, at) if at >= 0 else None
        merged: list[str] = []
        first = rest.find(b"<mergeCell")
        if first >= 0:  # the mergeCells element, counted alone; no '<mergeCell' may follow it
            close = rest.find(b"</mergeCells>", first)
            last = close + 13 if close >= 0 else len(rest)
            written = rest.count(b"<mergeCell ", first, last)
            if written > limits.max_merges:
                raise XlsxError("F06", "quá nhiều vùng gộp ô")
            merged = [x.decode("ascii") for x in _MERGE.findall(rest, first, last)]
        if (at < 0 or (prot and rest.find(b"<sheetProtection", at + 1) < 0 and not any(
                odd in prot[0] for odd in (b"='", b" =", b"= ")))) and (first < 0 or (
                len(merged) == written and rest.count(b"<mergeCell", first, last) == written + rest.count(
                    b"<mergeCells", first, last) and rest.find(b"<mergeCell", last) < 0)):
            # every '<mergeCell' written '<mergeCell ', and read
            found = bool(prot and re.search(rb'\ssheet="(1|true)"', prot[0])), tuple(merged)
    _TAILS.put(tail, found, limits)
    return found


def _head(data: bytes, start: int) -> bool:
    """Whether a sheet part's head, up to and with its '<sheetData>', is plain (``_plain``) and holds no cell, no
    sheetProtection, no mergeCell. Remembered by content (compared in place): the sheets of a form's returns
    mostly begin alike."""
    met, plain = _HEADS.get(data, 0, start)
    if met:
        return plain
    head = data[:start]
    plain = _plain(head, URI_MAIN, left_open=2) and not _CELL_TAG.search(head) and b"<sheetProtection" not in head and (
        b"<mergeCell" not in head)
    _HEADS.put(head, plain)
    return plain


def _plain_sheet(data: bytes, limits: Limits) -> _PlainSheet | None:
    """A sheet part read by byte searches, when it has the one plain shape they read exactly: its head (up to
    the sheetData) is plain (``_plain``), holds no cell, no sheetProtection, no mergeCell; the sheetData matches
    the plain grammar (``_ROWS``), has only the five predefined entities, no CR (the parser turns it into LF),
    no ']]>'; the tail is plain (``_tail``). None: use the full parser."""
    at = data.find(b"<sheetData>")
    if at < 0:
        return None
    start = at + 11
    end = data.find(b"</sheetData>", start)
    if end < 0 or not _ROWS.fullmatch(data, start, end):
        return None
    if data.find(b"\r", start, end) >= 0 or (data.find(b"&", start, end) >= 0 and _FOREIGN_AMP.search(
            data, start, end)) or (data.find(b"]", start, end) >= 0 and data.find(b"]]>", start, end) >= 0):
        return None
    if not _head(data, start):
        return None
    tail = _tail(data, end, limits)
    if tail is None:
        return None
    if data.count(b'<c r="', start, end) > limits.max_cells:  # every cell of a plain sheetData is written so
        raise XlsxError("F06", "quá nhiều ô")  # what read_cells would say, before the cells are cut apart
    pieces = _CELL_START.split(data[start:end])  # in one pass: [before, address, its cell, address, its cell...]
    addresses = pieces[1::2]
    cells = dict(zip(addresses, pieces[2::2], strict=True))
    twice = frozenset()
    if len(cells) != len(addresses):
        seen: set[bytes] = set()
        twice = frozenset(a for a in addresses if a in seen or seen.add(a))
    return _PlainSheet(cells, len(addresses), twice, *tail)


# the common cells, after the address: empty, a whole number, a shared string
_COMMON = re.compile(rb'(?: s="[0-9]+")?(?:(/>)|><v>([0-9]{1,15})</v></c>| t="s"><v>([0-9]{1,9})</v></c>)')


def _scan_plain(plain: _PlainSheet, wanted: set[str], sheet: str, done: dict[tuple[str, str], Cell]
                ) -> dict[str, tuple]:
    """(type, value, formula, inline text) of the wanted cells of a plain sheet, as ``_scan_sheet`` gives them;
    an empty cell or a whole number (most cells) goes straight into ``done`` as its Cell."""
    found, cells, twice = {}, plain.cells, plain.twice
    for addr in wanted:
        key = addr.encode("ascii")
        body = cells.get(key)
        if body is None:
            continue
        if twice and key in twice:
            raise _duplicate(addr)
        common = _COMMON.match(body)
        if common:
            empty, number, string = common.groups()
            if number:
                done[(sheet, addr)] = Cell(float(number))  # what parse_number gives for ASCII digits
            elif empty:
                done[(sheet, addr)] = _EMPTY_CELL
            else:
                found[addr] = ("s", string.decode("ascii"), None, None)
            continue
        kind, f, formula, value, is_, inline = _CELL_BODY.match(body).groups()
        kind = kind.decode("ascii") if kind else "n"
        found[addr] = (kind, _text(value) if value else None, (_text(formula) or "") if f else None,
                       (_text(inline) or "") if is_ and kind == "inlineStr" else None)
    return found


_RUN_T = rb'<t(?: xml:space="preserve")?>[^<]*+</t>'
# a plain string item: one <t>, or rich-text runs (their formatting as empty elements), then phonetic runs
_SI = re.compile(rb"(?>(?:<si>(?:" + _RUN_T + rb"|<t/>|(?:<r>(?:<rPr>(?:<[a-zA-Z]++" + _ATTRS + rb"/>)*+</rPr>)?"
                 + _RUN_T + rb"</r>)++)(?:<rPh" + _ATTRS + rb">" + _RUN_T + rb"</rPh>)*+(?:<phoneticPr" + _ATTRS
                 + rb"/>)?</si>))*+")


_T_TEXT = re.compile(rb"<t[^<>]*>([^<]*)</t>")


def _item_text(body: bytes) -> str:
    """The text of a plain string item (``_SI``): its <t> runs, without the phonetic ones that follow them."""
    if body[:3] == b"<t>" and body.find(b"<", 3) == len(body) - 4:  # the common case: one <t>...</t>
        return _text(body[3:-4])
    cut = body.find(b"<rPh")
    return "".join(_text(t) for t in _T_TEXT.findall(body, 0, cut if cut >= 0 else len(body)))


def _plain_strings(data: bytes) -> bool:
    """Whether a shared-strings part is plain (else the full parser reads it): a declaration, the root declaring
    the main namespace once as the default, then items matching the plain grammar (``_SI``), nothing else;
    only the five predefined entities, no CR."""
    decl = _DECL.match(data)
    root = _ROOT_TAG.match(data, decl.end() if decl else 0)
    if not root or not root[2] or root[2].count(URI_MAIN) != 1 or b'xmlns="' + URI_MAIN + b'"' not in root[2] or (
            b"xmlns" in root[2].replace(b'xmlns="' + URI_MAIN + b'"', b"")):
        return False
    end = len(data)
    while end and data[end - 1] in b" \t\n":
        end -= 1
    end -= len(b"</" + root[1] + b">")
    return data.startswith(b"</" + root[1] + b">", end) and bool(_SI.fullmatch(data, root.end(), end)) and not _has(
        data, b"\r") and not (_has(data, b"&") and _FOREIGN_AMP.search(data))


def _shared_strings(wb: Workbook, needed: set[int]) -> dict[int, str]:
    """The shared strings ``needed``; the part is read and shape-checked once per workbook."""
    missing = needed - wb.strings.keys()
    if missing:
        if wb.sst is None:
            if "xl/sharedStrings.xml" not in wb.zip.NameToInfo:
                raise XlsxError("F03", "thiếu bảng chuỗi (sharedStrings)")
            data = _part(wb.zip, "xl/sharedStrings.xml", wb.limits)
            wb.sst = data, wb.fast and _plain_strings(data), [], 0
        data, plain, items, cut = wb.sst
        top = max(missing)
        if plain and top >= cut and len(items) == cut:  # not cut that far yet, and the part may hold more items
            # cut (C-speed) up to the last string asked for, and kept: the part is read three times (metadata,
            # cover, fields). The last piece holds the rest of the part: its first item is read from it.
            items, cut = data.split(b"<si>", top + 1)[1:], top + 1
            wb.sst = data, plain, items, cut
        wb.strings.update(_read_strings(items if plain else data, plain, missing, wb.limits))
    return wb.strings


def _read_strings(data: bytes | list[bytes], plain: bool, needed: set[int], limits: Limits) -> dict[int, str]:
    """The strings ``needed`` of a shared-strings part: a plain part given as its items cut apart up to the last
    one needed (``<si>`` cut off; the last piece may hold the rest of the part), any other as its bytes (the full
    parser reads it)."""
    out, top = {}, max(needed)
    if plain:
        items = data
        for index in needed:
            if index < len(items):
                out[index] = _item_text(items[index].partition(b"</si>")[0])
    else:
        index = -1
        for event, el in _iter(data, limits):
            if event == "end" and el.tag == NS_MAIN + "si":
                index += 1
                if index in needed:
                    out[index] = _runs(el)
                el.clear()
                if index >= top:
                    break
    missing = sorted(needed - out.keys())
    if missing:
        raise XlsxError("F03", f"ô trỏ tới chuỗi số {missing[0]} không có trong bảng chuỗi")
    return out


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


def open_xlsx(data: bytes, limits: Limits = Limits(), z: zipfile.ZipFile | None = None, fast: bool = True) -> Workbook:
    """Open .xlsx bytes (or the zip already opened on them): sizes checked, sheets, defined names and custom
    properties read; no cells yet. ``fast=False`` reads every part with the full parser."""
    try:
        z = z or zipfile.ZipFile(io.BytesIO(data))
        _check_sizes(z, limits)
        sheets, names, date1904 = _workbook(z, limits, fast)
        custom = _custom(z, limits, fast)
        modified = ""
        if "docProps/core.xml" in z.NameToInfo:
            m = re.search(rb"<dcterms:modified[^<>]*>([^<]+)</dcterms:modified>", _part(z, "docProps/core.xml", limits))
            modified = m[1].decode("ascii", "replace").strip() if m else ""
    except XlsxError:
        raise
    except Exception as exc:  # BadZipFile, EOFError, XML parse errors, DefusedXmlException...: a corrupt file
        raise XlsxError("F03", type(exc).__name__ + (f": {exc}" if str(exc) else "")) from exc
    return Workbook(sheets, names, custom, date1904, "xl/vbaProject.bin" in z.NameToInfo, {}, z, limits, modified,
                    fast)


def read_cells(wb: Workbook, wanted: dict[str, set[str]]) -> dict[tuple[str, str], Cell]:
    """Read the cells ``wanted`` ({sheet name: {"B9", ...}}); also fills each sheet's protection and merges.
    Only the sheets named in ``wanted`` are opened."""
    z = wb.zip
    try:
        budget = [wb.limits.max_cells]
        raw: dict[tuple[str, str], tuple] = {}
        cells: dict[tuple[str, str], Cell] = {}
        names = z.NameToInfo
        for sheet in wb.sheets:
            if sheet.path in names and sheet.name in wanted:
                cells_wanted = wanted[sheet.name]
                if wb.fast and sheet.path not in wb.plain:
                    wb.plain[sheet.path] = _plain_sheet(_part(z, sheet.path, wb.limits), wb.limits)
                plain = wb.plain.get(sheet.path)
                if plain is not None:
                    budget[0] -= plain.count
                    if budget[0] < 0:
                        raise XlsxError("F06", "quá nhiều ô")
                    found = _scan_plain(plain, cells_wanted, sheet.name, cells)
                    sheet.protected, sheet.merged = plain.protected, list(plain.merged)
                else:
                    sheet.merged = []
                    found = _scan_sheet(_part(z, sheet.path, wb.limits), sheet, cells_wanted, budget, wb.limits)
                for addr, cell in found.items():
                    raw[(sheet.name, addr)] = cell
        needed = {i for r in raw.values() if r[0] == "s" and (i := _string_index(r[1])) is not None}
        strings = _shared_strings(wb, needed)
        cells.update({key: _cell(*r, strings) for key, r in raw.items()})
    except XlsxError:
        raise
    except Exception as exc:
        raise XlsxError("F03", type(exc).__name__ + (f": {exc}" if str(exc) else "")) from exc
    wb.cells.update(cells)
    return cells
