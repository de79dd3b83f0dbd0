"""Feedback workbooks: a copy of the province's own file with a first sheet listing the findings.

The province's data is untouched (the original file is never opened for writing; only a copy is changed),
and every finding links to the cell it is about. The copy is always a plain .xlsx (macros of an .xlsm are
dropped, so Excel opens it), keeps the original's saved time, and is stamped as libstats' output: sent back
unchanged it is set aside, never taken as a newer return; once the province edits and saves it, it is one.
Copies are written in isolated workers (a huge or hostile workbook costs one worker, not the run).

Two writers give the same sheet. The usual one edits the file's ZIP: every part of the province's file is
copied unchanged, and only the new sheet, the workbook's sheet list, its relationships and content types, the
styles the sheet needs, the other sheets' selection and the custom properties are written; nothing openpyxl
does not model (images, charts, comments' shapes, extensions) is lost, and it is far quicker
(benchmarks/bench_feedback.py). Any file not in a shape it handles with certainty (an .xlsm, a sheet already
named "Phản hồi", prefixed or unusual XML) goes to the other writer, openpyxl, which rewrites the whole
workbook. What the sheet shows (texts, order, styles, widths) is said once, in ``_sheet``; ``write_feedback``'s
``writer`` takes one writer alone (to compare them).
"""

from __future__ import annotations

import io
import posixpath
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from defusedxml.ElementTree import fromstring

from libstats.atomic import atomic_path
from libstats.checks.batch import WorkerLimits, run_isolated
from libstats.checks.check import OUTPUT_PROPERTY, SAVED_PROPERTY
from libstats.model.findings import Severity
from libstats.consolidation.ledger import Entry
from libstats.intake.xlsx import NS_MAIN, NS_PKG_REL, NS_REL, open_xlsx

__all__ = ["write_feedback", "write_feedbacks", "feedback_names", "wants_feedback", "WRITERS", "FEEDBACK_SHEET"]

FEEDBACK_SHEET = "Phản hồi"
_FILL = {Severity.ERROR: "F8CBAD", Severity.WARNING: "FFE699", Severity.INFO: "DDEBF7"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f/\\:*?\"<>|]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_MAX_STEM_BYTES = 150  # file systems allow 255 bytes a name; room for the suffix and a counter


def _printable(text: str) -> str:
    """Text a cell can hold: control characters (which XML cannot carry) shown as \\xNN, and the bytes of a file
    name that were not UTF-8 (kept as surrogates) as "?"."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text.encode("utf-8", "replace").decode("utf-8"))


def _ref(sheet: str, cell: str) -> str:
    """A link target in the workbook: 'Sheet''s name'!E5 (an apostrophe in a sheet name doubled)."""
    return "'" + sheet.replace("'", "''") + "'!" + cell


def _same_sheet(a: str, b: str) -> bool:
    """Excel takes two sheet names that differ only in case for the same name."""
    return unicodedata.normalize("NFC", a).casefold() == unicodedata.normalize("NFC", b).casefold()


def _safe_stem(display: str) -> str:
    # bytes of the name that were not UTF-8 (kept by the file system as surrogates) become "?", then "_"
    stem = unicodedata.normalize("NFC", display.encode("utf-8", "replace").decode("utf-8"))
    stem = stem[: -len(Path(stem).suffix)] if Path(stem).suffix else stem
    stem = _UNSAFE.sub("_", stem).strip(" ._") or "tep"
    while len(stem.encode("utf-8")) > _MAX_STEM_BYTES:
        stem = stem[:-1]
    return stem


def feedback_names(entries: Sequence[Entry]) -> list[str]:
    """A distinct, safe file name for each entry's feedback copy (control characters, separators and
    over-long names replaced; files of the same name in different folders never share a copy)."""
    names, seen = [], set()
    for e in entries:
        stem, n = _safe_stem(e.result.display), 1
        name = f"{stem}_phan-hoi.xlsx"
        while name.casefold() in seen:
            n += 1
            name = f"{stem}_phan-hoi-{n}.xlsx"
        seen.add(name.casefold())
        names.append(name)
    return names


def wants_feedback(e: Entry) -> bool:
    """A copy is made of every file that opened as a workbook and is not libstats' own output."""
    if e.fate == "set_aside" or e.result.kind in ("xls", "ods", "xml"):
        return False
    return not any(f.code.startswith("F") and f.severity == Severity.ERROR for f in e.result.findings)


def write_feedbacks(entries: Sequence[Entry], out_dir: Path, limits: WorkerLimits | None = None,
                    progress: Callable[[Iterable], Iterable] = lambda it: it) -> list[Path | None]:
    """The feedback copy of every entry that can have one (None for the others), in isolated workers."""
    names = feedback_names(entries)
    chosen = [i for i, e in enumerate(entries) if wants_feedback(e)]
    tasks = [(entries[i], out_dir / names[i]) for i in chosen]
    made = run_isolated(write_feedback, tasks, lambda i, why: None, limits or WorkerLimits(), progress) if tasks else []
    out: list[Path | None] = [None] * len(entries)
    for i, path in zip(chosen, made, strict=True):
        out[i] = path
    return out


# ---------------------------------------------------------------------------------------------------------
# What the sheet shows: one description, written by either writer.

_FONT = "Times New Roman"
_BORDER_COLOR = "808080"
_HEAD_FILL = "D9E2F3"
_LINK_COLOR = "0000FF"
_WIDTHS = (5, 14, 7, 30, 90)  # columns A..E
_FROZEN = "A6"  # rows 1-5 (title, verdict, advice, headings) stay in view
_HEAD_ROW = 5


@dataclass(frozen=True)
class _Style:
    bold: bool = False
    size: int = 11
    link: bool = False  # blue, underlined
    fill: str = ""  # solid fill colour, RRGGBB
    border: bool = False  # thin grey on all four sides
    valign: str = ""  # "top", "center"
    wrap: bool = False


_TITLE = _Style(bold=True, size=13)
_TEXT = _Style(size=12)
_HEAD = _Style(bold=True, fill=_HEAD_FILL, border=True, valign="center")
_BODY = _Style(border=True, valign="top", wrap=True)
_LINK = _Style(link=True, border=True, valign="top", wrap=True)
_SEVERITY = {s: _Style(fill=c, border=True, valign="top", wrap=True) for s, c in _FILL.items()}
_STYLES = (_TITLE, _TEXT, _HEAD, _BODY, _LINK, *_SEVERITY.values())


@dataclass(frozen=True)
class _Row:
    number: int
    cells: tuple[tuple[object, _Style], ...]  # columns A.. in order: (value, style); a value is str or int
    height: float | None = None
    link: tuple[str, str] | None = None  # column D's link: (location 'Sheet'!E5, display)


def _sheet(entry: Entry, sheet_names: Iterable[str]) -> list[_Row]:
    """The rows of the feedback sheet of ``entry``; ``sheet_names``: the sheets a link may lead to."""
    res, names = entry.result, set(sheet_names)
    rows = [_Row(1, ((f"KẾT QUẢ KIỂM TRA TỆP: {_printable(Path(res.display).name)}", _TITLE),)),
            _Row(2, ((f"Kết luận: {entry.verdict.label}. Lỗi: {entry.errors}; cảnh báo: {entry.warnings}.",
                      _TEXT),)),
            _Row(3, (("Hãy sửa các lỗi ở đúng ô được chỉ ra (bấm vào vị trí để đến ô), xem lại các cảnh báo, "
                      "rồi gửi lại tệp. Trang này có thể để nguyên khi gửi lại.", _TEXT),)),
            _Row(_HEAD_ROW, tuple((h, _HEAD) for h in ("STT", "Mức độ", "Mã", "Vị trí (bấm để đến ô)", "Nội dung")))]
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    for i, f in enumerate(sorted(entry.findings, key=lambda f: order[f.severity]), start=1):
        where = _printable(f"{f.sheet} · {f.cell}" if f.cell else f.sheet)
        link = (_ref(f.sheet, f.cell), where) if f.sheet in names and f.cell else None
        message = _printable(f.message)
        if len(message) > _MAX_TEXT:  # a cell holds 32,767 characters; a text typed where a number goes can be longer
            message = message[:_MAX_TEXT - 1] + "…"
        rows.append(_Row(_HEAD_ROW + i, ((i, _BODY), (f.severity.label, _SEVERITY[f.severity]), (f.code, _BODY),
                                         (where[:_MAX_TEXT], _LINK if link else _BODY), (message, _BODY)),
                         min(_MAX_ROW_HEIGHT, 15.5 * max(len(message) // 95 + 1, len(where) // 28 + 1)), link))
    return rows


_MAX_TEXT = 32_000  # characters a cell may hold (Excel: 32,767), with room for '_xHHHH_' escapes
_MAX_ROW_HEIGHT = 409  # points, Excel's tallest row
_XESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")


def _literal(text: str) -> str:
    """Text as a cell stores it: a '_xHHHH_' in it, which Excel reads as an escaped character, escaped itself
    (Excel and LibreOffice then show it as written)."""
    return _XESCAPE.sub(r"_x005F_\1", text)


WRITERS = ("auto", "zip", "openpyxl")


def write_feedback(entry: Entry, out: Path, writer: str = "auto") -> Path | None:
    """Write the feedback copy of one checked file to ``out``; None when the file does not open as a workbook.
    ``writer``: "auto" (the ZIP writer, or openpyxl for a shape it leaves), or one of them alone ("zip": None
    when it leaves the file to openpyxl)."""
    if writer not in WRITERS:
        raise ValueError(f"writer must be one of {WRITERS}, not {writer!r}")
    data = Path(entry.result.path).read_bytes()
    copy = None
    if writer != "openpyxl":
        try:
            copy = _zip_copy(entry, data)
        except Exception:  # noqa: BLE001 - a shape the ZIP writer did not foresee: the openpyxl writer takes it
            if writer == "zip":
                raise
    if copy is None:
        return None if writer == "zip" else _openpyxl_copy(entry, data, out)
    with atomic_path(out) as tmp:
        tmp.write_bytes(copy)
    return out


# ---------------------------------------------------------------------------------------------------------
# The openpyxl writer: rewrites the whole workbook (for the shapes the ZIP writer leaves alone).

def _openpyxl_copy(entry: Entry, data: bytes, out: Path) -> Path | None:
    import openpyxl
    from openpyxl.packaging.custom import StringProperty
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.hyperlink import Hyperlink

    res = entry.result
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about extensions it does not keep (not our data)
            wb = openpyxl.load_workbook(io.BytesIO(data), keep_vba=False, keep_links=True)
    except Exception:  # noqa: BLE001 - an unreadable file gets its findings on screen and in the ledger only
        return None
    if FEEDBACK_SHEET in wb.sheetnames:
        del wb[FEEDBACK_SHEET]
    ws = wb.create_sheet(FEEDBACK_SHEET, 0)
    wb.active = 0
    for sheet in wb.worksheets[1:]:
        sheet.sheet_view.tabSelected = False
    thin = Side(style="thin", color=_BORDER_COLOR)
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for row in _sheet(entry, wb.sheetnames):
        for col, (value, st) in enumerate(row.cells, start=1):
            c = ws.cell(row=row.number, column=col, value=_literal(value) if isinstance(value, str) else value)
            if isinstance(value, str):
                c.data_type = "s"  # a text from a file stays text, never a formula
            c.font = Font(name=_FONT, bold=st.bold, size=st.size, color=_LINK_COLOR if st.link else None,
                          underline="single" if st.link else None)
            if st.fill:
                c.fill = PatternFill("solid", fgColor=st.fill)
            if st.border:
                c.border = border
            if st.valign:
                c.alignment = Alignment(vertical=st.valign, wrap_text=st.wrap or None)
        if row.link:
            ws.cell(row=row.number, column=4).hyperlink = Hyperlink(ref=f"D{row.number}", location=row.link[0],
                                                                    display=row.link[1])
        if row.height:
            ws.row_dimensions[row.number].height = row.height
    for col, width in zip("ABCDE", _WIDTHS, strict=True):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = _FROZEN
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{_HEAD_ROW}:{_HEAD_ROW}"
    for name in (OUTPUT_PROPERTY, SAVED_PROPERTY):
        if name in wb.custom_doc_props.names:
            del wb.custom_doc_props[name]
    wb.custom_doc_props.append(StringProperty(name=OUTPUT_PROPERTY, value="feedback"))
    wb.custom_doc_props.append(StringProperty(name=SAVED_PROPERTY, value=res.saved or "-"))
    with atomic_path(out) as tmp:
        wb.save(tmp)
        _keep_saved_time(tmp, res.saved)
    return out


_MODIFIED = re.compile(rb"(<dcterms:modified\b[^>]*>)[^<]*(</dcterms:modified>)")


def _keep_saved_time(path: Path, saved: str) -> None:
    """Put the original file's saved time back into the copy's core properties (openpyxl stamps 'now')."""
    with zipfile.ZipFile(path) as z:
        parts = [(info, z.read(info)) for info in z.infolist()]
    raw = saved.encode("ascii", "replace")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            if info.filename == "docProps/core.xml":
                # the tag and its namespace declarations kept; only the time is put back (or the element dropped)
                data = _MODIFIED.sub(lambda m: m[1] + raw + m[2] if raw else b"", data, count=1)
            z.writestr(info, data)


# ---------------------------------------------------------------------------------------------------------
# The ZIP writer: the province's parts copied as they are; only what the new sheet needs is edited, each edit
# an anchored substitution whose result is parsed again and checked. Any doubt: None (the openpyxl writer).

_CT_MAIN = b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_CT_CUSTOM = "application/vnd.openxmlformats-officedocument.custom-properties+xml"
_URI_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_SHEET = _URI_R + "/worksheet"
_REL_CUSTOM = _URI_R + "/custom-properties"
_REL_CALC_CHAIN = _URI_R + "/calcChain"
_CALC_CHAIN = "xl/calcChain.xml"
_URI_CUSTOM = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
_URI_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_URI_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_URI_PKG_REL = NS_PKG_REL[1:-1]
_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_NOT_XML = re.compile(r"[\ud800-\udfff\ufffe\uffff]")  # no XML can carry these (after _printable)


class _Odd(Exception):
    """The file is not in a shape the ZIP writer handles with certainty."""


def _esc(text: str, attribute: bool = False) -> str:
    if _NOT_XML.search(text):
        raise _Odd("character XML cannot carry")
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    if attribute:
        text = text.replace('"', "&quot;").replace("\t", "&#9;").replace("\n", "&#10;")
    return text


def _sub(pattern: bytes, repl, data: bytes, count: int = 1) -> bytes:
    """``re.subn`` that must replace exactly ``count`` times (0: any number)."""
    new, n = re.subn(pattern, repl, data, count=count)
    if count and n != count:
        raise _Odd(pattern.decode())
    return new


def _once(data: bytes, marker: bytes) -> int:
    """The position of ``marker``, which must occur exactly once."""
    if data.count(marker) != 1:
        raise _Odd(marker.decode())
    return data.index(marker)


def _plain_root(data: bytes, tag: str, uri: str):
    """The parsed part, which must be unprefixed ``tag`` in ``uri`` with no comment, CDATA, DTD or PI."""
    if b"<!" in data or data.count(b"<?") > 1 or (data.count(b"<?") == 1 and not data.lstrip(b"\xef\xbb\xbf")
                                                     .startswith(b"<?xml")):
        raise _Odd("comment, CDATA, DTD or processing instruction")
    root = fromstring(data, forbid_dtd=True)
    if root.tag != "{" + uri + "}" + tag or not re.search(rb"<" + tag.encode() + rb"\b", data):
        raise _Odd(f"root {root.tag}")
    return root


def _font_xml(st: _Style) -> str:
    return ("<font>" + ("<b/>" if st.bold else "") + ('<u/>' if st.link else "") + f'<sz val="{st.size}"/>'
            + f'<color rgb="FF{_LINK_COLOR}"/>' * st.link + f'<name val="{_FONT}"/><family val="1"/></font>')


def _fill_xml(color: str) -> str:
    return (f'<fill><patternFill patternType="solid"><fgColor rgb="FF{color}"/><bgColor indexed="64"/>'
            "</patternFill></fill>")


_BORDER_XML = ("<border>" + "".join(f'<{side} style="thin"><color rgb="FF{_BORDER_COLOR}"/></{side}>'
                                    for side in ("left", "right", "top", "bottom")) + "<diagonal/></border>")


def _styles(data: bytes) -> tuple[bytes, dict[_Style, int]]:
    """styles.xml with the fonts, fills, border and cell formats of ``_STYLES`` appended; each style's index."""
    root = _plain_root(data, "styleSheet", NS_MAIN[1:-1])
    have = {}
    for tag in ("fonts", "fills", "borders", "cellXfs", "cellStyleXfs"):
        found = root.findall(NS_MAIN + tag)
        if len(found) != 1 or (tag != "cellStyleXfs" and data.count(b"</" + tag.encode() + b">") != 1):
            raise _Odd(tag)
        have[tag] = len(found[0])
    if not have["cellStyleXfs"] or have["fills"] < 2:
        raise _Odd("no cell style or the two reserved fills")
    fonts = list(dict.fromkeys((s.bold, s.size, s.link) for s in _STYLES))
    fills = list(dict.fromkeys(s.fill for s in _STYLES if s.fill))
    add = {"fonts": "".join(_font_xml(_Style(bold=b, size=z, link=k)) for b, z, k in fonts),
           "fills": "".join(_fill_xml(c) for c in fills), "borders": _BORDER_XML, "cellXfs": ""}
    index = {}
    for k, st in enumerate(_STYLES):
        font = have["fonts"] + fonts.index((st.bold, st.size, st.link))
        fill = have["fills"] + fills.index(st.fill) if st.fill else 0
        border = have["borders"] if st.border else 0
        wrap = ' wrapText="1"' if st.wrap else ""
        align = f'<alignment vertical="{st.valign}"{wrap}/>' if st.valign else ""
        add["cellXfs"] += (f'<xf numFmtId="0" fontId="{font}" fillId="{fill}" borderId="{border}" xfId="0" '
                           f'applyFont="1"' + (' applyFill="1"' if st.fill else "")
                           + (' applyBorder="1"' if st.border else "")
                           + (f' applyAlignment="1">{align}</xf>' if align else "/>"))
        index[st] = have["cellXfs"] + k
    added = {"fonts": len(fonts), "fills": len(fills), "borders": 1, "cellXfs": len(_STYLES)}
    for tag, xml in add.items():
        t = tag.encode()
        data = data.replace(b"</" + t + b">", xml.encode() + b"</" + t + b">")
        data = _sub(rb"(<" + t + rb'\b[^<>]*?\scount=")\d+(")',
                    lambda m, n=have[tag] + added[tag]: m[1] + str(n).encode() + m[2], data, count=0)
    root = fromstring(data, forbid_dtd=True)
    for tag, n in added.items():
        el = root.find(NS_MAIN + tag)
        if len(el) != have[tag] + n or el.get("count", str(len(el))) != str(len(el)):
            raise _Odd(f"{tag} after the edit")
    return data, index


def _col(i: int) -> str:
    return "ABCDE"[i]


def _worksheet(rows: list[_Row], index: dict[_Style, int]) -> bytes:
    out = [_DECLARATION.decode(), f'<worksheet xmlns="{NS_MAIN[1:-1]}" xmlns:r="{_URI_R}">',
           '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>', f'<dimension ref="A1:E{rows[-1].number}"/>',
           '<sheetViews><sheetView tabSelected="1" workbookViewId="0">',
           f'<pane ySplit="{_HEAD_ROW}" topLeftCell="{_FROZEN}" activePane="bottomLeft" state="frozen"/>',
           f'<selection pane="bottomLeft" activeCell="{_FROZEN}" sqref="{_FROZEN}"/></sheetView></sheetViews>',
           '<sheetFormatPr defaultRowHeight="15"/><cols>']
    out += [f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>' for i, w in enumerate(_WIDTHS, start=1)]
    out.append("</cols><sheetData>")
    for row in rows:
        height = f' ht="{row.height:g}" customHeight="1"' if row.height else ""
        out.append(f'<row r="{row.number}"{height}>')
        for i, (value, st) in enumerate(row.cells):
            ref = f"{_col(i)}{row.number}"
            if isinstance(value, str):
                text = _esc(_literal(value))
                out.append(f'<c r="{ref}" s="{index[st]}" t="inlineStr"><is><t xml:space="preserve">{text}</t>'
                           "</is></c>")
            else:
                out.append(f'<c r="{ref}" s="{index[st]}"><v>{int(value)}</v></c>')
        out.append("</row>")
    out.append("</sheetData>")
    links = [f'<hyperlink ref="D{r.number}" location="{_esc(r.link[0], True)}" display="{_esc(r.link[1], True)}"/>'
             for r in rows if r.link]
    if links:
        out += ["<hyperlinks>", *links, "</hyperlinks>"]
    out += ['<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/>',
            '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/></worksheet>']
    return "".join(out).encode("utf-8")


def _workbook(data: bytes, rid: str) -> bytes:
    """workbook.xml with the feedback sheet first: every sheet-position (localSheetId) moved by one, the
    first sheet active, and the print titles of the new sheet."""
    root = _plain_root(data, "workbook", NS_MAIN[1:-1])
    sheets = [(s.get("name"), s.get("sheetId")) for s in root.iter(NS_MAIN + "sheet")]
    local = [n.get("localSheetId") for n in root.iter(NS_MAIN + "definedName")]
    if any(_same_sheet(n or "", FEEDBACK_SHEET) for n, _ in sheets) or not all(i and i.isdigit() for _, i in sheets):
        raise _Odd("sheets")  # a sheet named like ours in any case (Excel's sheet names ignore case): openpyxl's
    bound = re.match(rb"[^<]*(?:<\?[^>]*\?>\s*)?<workbook\b[^<>]*?\sxmlns:([A-Za-z_][\w.-]*)=\"" + _URI_R.encode()
                     + rb'"', data)
    # the prefix the root binds to the relationships namespace; else one bound on the new element itself
    # (openpyxl writes the binding on every <sheet>)
    prefix = bound[1].decode() if bound else "r"
    declare = "" if bound else f' xmlns:r="{_URI_R}"'
    new = (f'<sheet{declare} name="{_esc(FEEDBACK_SHEET, True)}" sheetId="{max(int(i) for _, i in sheets) + 1}" '
           f'{prefix}:id="{rid}"/>').encode()
    data = _sub(rb"<sheets>", b"<sheets>" + new, data)
    data = _sub(rb'(<definedName\b[^<>]*?\slocalSheetId=")(\d+)(")',
                lambda m: m[1] + str(int(m[2]) + 1).encode() + m[3], data, count=0)
    rows = f"${_HEAD_ROW}:${_HEAD_ROW}"
    titles = f'<definedName name="_xlnm.Print_Titles" localSheetId="0">{_esc(_ref(FEEDBACK_SHEET, rows))}</definedName>'
    titles = titles.encode()
    if b"<definedNames>" in data:
        data = _sub(rb"<definedNames>", b"<definedNames>" + titles, data)
    elif b"<definedNames" in data or b"<functionGroups" in data or b"<externalReferences" in data:
        raise _Odd("definedNames")
    else:
        data = _sub(rb"</sheets>", b"</sheets><definedNames>" + titles + b"</definedNames>", data)

    def view(m: re.Match) -> bytes:
        tag = re.sub(rb'\s(?:activeTab|firstSheet)="[^"]*"', b"", m[0])
        return tag[:13] + b' activeTab="0"' + tag[13:]
    data = _sub(rb"<workbookView\b[^<>]*>", view, data, count=0)
    after = fromstring(data, forbid_dtd=True)
    if [(s.get("name"), s.get("sheetId")) for s in after.iter(NS_MAIN + "sheet")][1:] != sheets or next(
            after.iter(NS_MAIN + "sheet")).get(NS_REL + "id") != rid:
        raise _Odd("sheets after the edit")
    moved = [n.get("localSheetId") for n in after.iter(NS_MAIN + "definedName")]
    if moved != ["0"] + [i if i is None else str(int(i) + 1) for i in local]:
        raise _Odd("defined names after the edit")
    if any(v.get("activeTab") != "0" or v.get("firstSheet") for v in after.iter(NS_MAIN + "workbookView")):
        raise _Odd("workbook views after the edit")
    return data


def _add_relationship(data: bytes, type_: str, target: str, stem: str = "rId") -> tuple[bytes, str]:
    """A relationships part with one more Relationship (its Id unique), and the Id."""
    root = _plain_root(data, "Relationships", _URI_PKG_REL)
    ids = {r.get("Id") for r in root}
    n = len(ids) + 1
    while f"{stem}{n}" in ids:
        n += 1
    rid = f"{stem}{n}"
    rel = f'<Relationship Id="{rid}" Type="{type_}" Target="{_esc(target, True)}"/>'.encode()
    _once(data, b"</Relationships>")
    data = data.replace(b"</Relationships>", rel + b"</Relationships>")
    if [r.get("Id") for r in fromstring(data, forbid_dtd=True)][-1:] != [rid]:
        raise _Odd("relationship after the edit")
    return data, rid


def _drop_relationship(data: bytes, type_: str) -> bytes:
    """A relationships part without its Relationships of ``type_`` (checked by parsing again)."""
    data = _sub(rb'<Relationship\b[^<>]*?\sType="' + re.escape(type_.encode()) + rb'"[^<>]*?/>', b"", data, count=0)
    if any(r.get("Type") == type_ for r in _plain_root(data, "Relationships", _URI_PKG_REL)):
        raise _Odd("relationship left after the edit")
    return data


def _drop_override(data: bytes, part: str) -> bytes:
    data = _sub(rb'<Override\b[^<>]*?\sPartName="/' + re.escape(part.encode()) + rb'"[^<>]*?/>', b"", data, count=0)
    if any(o.get("PartName", "").lower() == "/" + part.lower() for o in _plain_root(data, "Types", _URI_CT)):
        raise _Odd("content type left after the edit")
    return data


def _add_override(data: bytes, part: str, content_type: str) -> bytes:
    root = _plain_root(data, "Types", _URI_CT)
    if any(o.get("PartName", "").lower() == "/" + part.lower() for o in root):
        raise _Odd("content type already there")
    _once(data, b"</Types>")
    return data.replace(b"</Types>", f'<Override PartName="/{part}" ContentType="{content_type}"/></Types>'.encode())


def _properties(data: bytes | None, values: dict[str, str]) -> bytes:
    """custom.xml with ``values`` set (a property of the same name replaced)."""
    if data is None:
        data = (_DECLARATION.decode() + f'<Properties xmlns="{_URI_CUSTOM}" xmlns:vt="{_URI_VT}"></Properties>'
                ).encode()
    root = _plain_root(data, "Properties", _URI_CUSTOM)
    bound = re.match(rb'[^<]*(?:<\?[^>]*\?>\s*)?<Properties\b[^<>]*?\sxmlns:vt="' + _URI_VT.encode() + rb'"', data)
    vt = "vt:lpwstr" if bound else f'vt:lpwstr xmlns:vt="{_URI_VT}"'  # openpyxl binds it on every value
    kept = [p.get("name") for p in root if p.get("name") not in values]
    for name in values:
        data = _sub(rb'<property\b[^<>]*?\sname="' + _esc(name, True).encode() + rb'"[^<>]*>.*?</property>', b"",
                    data, count=0)
    pids = [int(p.get("pid")) for p in root if (p.get("pid") or "").isdigit()]
    pid = max([1, *pids]) + 1
    new = "".join(f'<property fmtid="{_FMTID}" pid="{pid + k}" name="{_esc(n, True)}"><{vt}>{_esc(v)}'
                  "</vt:lpwstr></property>" for k, (n, v) in enumerate(values.items()))
    _once(data, b"</Properties>")
    data = data.replace(b"</Properties>", new.encode() + b"</Properties>")
    after = fromstring(data, forbid_dtd=True)
    found = [(p.get("name"), next(iter(p)).text) for p in after]
    if found != [*((n, v) for n, v in ((p.get("name"), next(iter(p)).text) for p in root) if n in kept),
                 *values.items()]:
        raise _Odd("properties after the edit")
    return data


def _unselect(data: bytes) -> bytes:
    """A sheet part with its tabSelected dropped (the sheet views come before the cells)."""
    end = data.find(b"<sheetData")
    head = data[:end] if end >= 0 else data
    if b"tabSelected" not in head:
        return data
    if b"<!" in head or head.count(b"<?") > 1:
        raise _Odd("sheet head")
    head = _sub(rb'(<sheetView\b[^<>]*?)\stabSelected="(?:1|true)"', rb"\1", head, count=0)
    if b"tabSelected" in head.replace(b'tabSelected="0"', b"").replace(b'tabSelected="false"', b""):
        raise _Odd("tabSelected")
    return head + (data[end:] if end >= 0 else b"")


def _zip_copy(entry: Entry, data: bytes) -> bytes | None:
    """The feedback copy written into the province's own ZIP, or None when the file is not in a shape this
    writer handles with certainty."""
    res = entry.result
    if res.kind != "xlsx":
        return None
    try:
        wb = open_xlsx(data)
        z = wb.zip
        names = z.namelist()
        if len(set(names)) != len(names) or "xl/vbaProject.bin" in names:
            return None
        parts = {n: z.read(n) for n in names}
        ct = parts.get("[Content_Types].xml", b"")
        needed = {"xl/workbook.xml", "xl/styles.xml", "xl/_rels/workbook.xml.rels", "_rels/.rels"}
        if _CT_MAIN not in ct or b"macroEnabled" in ct or not needed <= set(names):
            return None
        if not all(s.path in parts for s in wb.sheets):  # (a sheet named like ours: _workbook leaves it to openpyxl)
            return None
        lower = {n.lower() for n in names}
        n = 1
        while f"xl/worksheets/sheetfeedback{n}.xml" in lower:
            n += 1
        part = f"xl/worksheets/sheetFeedback{n}.xml"
        edited = {}
        edited["xl/_rels/workbook.xml.rels"], rid = _add_relationship(
            parts["xl/_rels/workbook.xml.rels"], _REL_SHEET, posixpath.relpath(part, "xl"))
        edited["xl/workbook.xml"] = _workbook(parts["xl/workbook.xml"], rid)
        edited["xl/styles.xml"], index = _styles(parts["xl/styles.xml"])
        ct = _add_override(ct, part, _CT_SHEET)
        custom = "docProps/custom.xml"
        if custom not in parts:
            root_rels = _plain_root(parts["_rels/.rels"], "Relationships", _URI_PKG_REL)
            if any(r.get("Type") == _REL_CUSTOM for r in root_rels):
                return None
            edited["_rels/.rels"], _ = _add_relationship(parts["_rels/.rels"], _REL_CUSTOM, custom)
            ct = _add_override(ct, custom, _CT_CUSTOM)
        # core.xml is copied as it is: the saved time the checker will compare with is the one in this file
        edited[custom] = _properties(parts.get(custom), {OUTPUT_PROPERTY: "feedback",
                                                         SAVED_PROPERTY: wb.modified or "-"})
        if _CALC_CHAIN in parts:  # it names sheets by id and position; Excel rebuilds it (openpyxl drops it too)
            edited["xl/_rels/workbook.xml.rels"] = _drop_relationship(edited["xl/_rels/workbook.xml.rels"],
                                                                      _REL_CALC_CHAIN)
            ct = _drop_override(ct, _CALC_CHAIN)
        edited["[Content_Types].xml"] = ct
        for s in wb.sheets:
            sheet = _unselect(parts[s.path])
            if sheet is not parts[s.path]:
                edited[s.path] = sheet
        edited[part] = _worksheet(_sheet(entry, [s.name for s in wb.sheets]), index)
    except _Odd:
        return None
    return _repacked(z, parts, edited)


def _repacked(z: zipfile.ZipFile, parts: dict[str, bytes], edited: dict[str, bytes]) -> bytes:
    """The ZIP ``z`` again, in its order and with its entries' times, with the ``edited`` parts in place of its own
    and the new ones after them; without the calculation chain."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in z.infolist():
            if info.filename == _CALC_CHAIN:
                continue
            zi = zipfile.ZipInfo(info.filename, info.date_time)
            zi.compress_type, zi.external_attr = zipfile.ZIP_DEFLATED, info.external_attr
            out.writestr(zi, edited.pop(info.filename, parts[info.filename]))
        for name, body in edited.items():  # the parts that are new (the sheet; custom properties if none)
            out.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return buf.getvalue()
