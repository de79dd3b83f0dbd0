"""A corpus of bad and awkward returns, made by code from generated templates (no hand-edited binaries).

Each maker writes one file and returns the path; tests/test_check.py states the finding each must give.
Byte-level edits (a part of the zip rewritten) stand for what a spreadsheet program or a person did.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from libstats.model.form import build_form
from libstats.model.provinces import province
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, template_filename, write_template

YEAR = 2024
FORM = build_form(YEAR)
HANOI = province(YEAR, "01")


def good_values(p=HANOI, form=FORM) -> dict:
    return sample_values(form, p, seed=7)


def _frozen(x):
    """``x`` as a value that compares equal exactly when the inputs of a form are the same (dicts and sets sorted)."""
    if isinstance(x, dict):
        return ("dict", tuple(sorted((repr(k), _frozen(v)) for k, v in x.items())))
    if isinstance(x, (set, frozenset)):
        return ("set", tuple(sorted(repr(_frozen(v)) for v in x)))
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, tuple(_frozen(v) for v in x))
    return repr(x)


_FILLED: dict[tuple, tuple] = {}  # (its form, kept so that its id is never reused, the bytes) of each return


SAVED = dt.datetime.now(dt.UTC).replace(microsecond=0)  # the time every return of a test process is stamped with


def filled(path: Path, values: dict | None = None, p=HANOI, form=FORM, **opts) -> Path:
    """A return of ``p`` with ``values`` (the good ones by default) at ``path``. The form writer is deterministic
    but for the time it stamps: every return is stamped ``SAVED`` (unless ``generated_at`` is given), as if all
    were saved in the same second, so a return asked for again with the same inputs is the first one's bytes
    copied. Of two returns of one province, the one written last into the inbox counts (the ledger's rule for
    returns saved at the same time), whichever test wrote either first."""
    opts.setdefault("generated_at", SAVED)
    vals = good_values(p, form) if values is None else values
    key = (id(form), form.year, _frozen(vals), repr(p), _frozen(opts))
    if key not in _FILLED:
        out = write_template(form, path, TemplateOptions(province=p, values=vals, **opts))
        _FILLED[key] = (form, out.read_bytes())
        return out
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_FILLED[key][1])
    return out


def with_values(path: Path, **changes) -> Path:
    values = good_values()
    values.update(changes)
    return filled(path, values)


def rewrite(src: Path, dst: Path, edit) -> Path:
    """Copy an .xlsx, passing each part through ``edit(name, bytes) -> bytes | None`` (None drops the part)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info.filename))
            if data is not None:
                zout.writestr(info.filename, data)
    return dst


_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml."


def add_part(src: Path, dst: Path, part: str, body: bytes | Iterable[bytes], kind: str,
             edit: Callable[[str, str], str] = lambda name, text: text) -> Path:
    """Copy an .xlsx with one more workbook part ``part`` ("xl/...") of ``kind`` ("worksheet", "calcChain"), its
    relationship (rId99) and content type declared; ``body`` in chunks is streamed (zip64: it may be huge);
    ``edit(name, text)`` changes the other parts (a new sheet is named in xl/workbook.xml by the caller)."""
    def each(name: str, data: bytes) -> bytes:
        text = edit(name, data.decode())
        if name == "xl/_rels/workbook.xml.rels":
            text = text.replace("</Relationships>", f'<Relationship Id="rId99" Type="{_REL}{kind}" '
                                f'Target="{part.removeprefix("xl/")}"/></Relationships>')
        elif name == "[Content_Types].xml":
            text = text.replace("</Types>", f'<Override PartName="/{part}" ContentType="{_CT}{kind}+xml"/></Types>')
        return text.encode()
    rewrite(src, dst, each)
    with zipfile.ZipFile(dst, "a", zipfile.ZIP_DEFLATED) as z, z.open(part, "w", force_zip64=True) as out:
        for chunk in [body] if isinstance(body, bytes) else body:
            out.write(chunk)
    return dst


def sheet_part(src: Path, sheet_name: str) -> str:
    """The zip part of a sheet, by its name."""
    with zipfile.ZipFile(src) as z:
        wb = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{re.escape(sheet_name)}" sheetId="\d+" (?:state="\w+" )?r:id="(rId\d+)"', wb)[1]
    target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels)
    return "xl/" + (target[1] or target[2])


def edit_part(src: Path, dst: Path, part: str, fn) -> Path:
    return rewrite(src, dst, lambda name, data: fn(data.decode()).encode() if name == part else data)


def edit_names(src: Path, dst: Path, fn) -> Path:
    return edit_part(src, dst, "xl/workbook.xml", fn)


def drop_name(xml: str, name: str) -> str:
    return re.sub(rf'<definedName name="{name}">[^<]*</definedName>', "", xml)


def set_name(xml: str, name: str, target: str) -> str:
    return re.sub(rf'(<definedName name="{name}">)[^<]*(</definedName>)', rf"\g<1>{target}\g<2>", xml)


def unprotect(src: Path, dst: Path, sheet: str) -> Path:
    return edit_part(src, dst, sheet_part(src, sheet), lambda x: re.sub(r"<sheetProtection[^>]*/>", "", x))


def rename_sheet(src: Path, dst: Path, old: str, new: str) -> Path:
    return edit_names(src, dst, lambda x: x.replace(f'name="{old}"', f'name="{new}"').replace(f"'{old}'!",
                                                                                             f"'{new}'!"))


def remove_sheet(src: Path, dst: Path, sheet: str, keep_names: bool) -> Path:
    def fn(x: str) -> str:
        x = re.sub(rf'<sheet name="{re.escape(sheet)}"[^>]*/>', "", x)
        if keep_names:
            return re.sub(rf"'{re.escape(sheet)}'!\$[A-Z]+\$\d+", "#REF!", x)
        return re.sub(rf'<definedName name="[^"]+">\'{re.escape(sheet)}\'![^<]*</definedName>', "", x)
    return edit_names(src, dst, fn)


def strip_metadata(src: Path, dst: Path) -> Path:
    """Contents pasted into a new workbook: no custom properties, no hidden metadata sheet, no names."""
    meta_part = sheet_part(src, "_libstats")

    def edit(name: str, data: bytes) -> bytes | None:
        if name in ("docProps/custom.xml", meta_part):
            return None
        text = data.decode()
        if name == "xl/workbook.xml":
            text = re.sub(r"<definedNames>.*</definedNames>", "", text, flags=re.S)
            text = re.sub(r'<sheet name="_libstats"[^>]*/>', "", text)
        if name == "[Content_Types].xml":
            text = re.sub(r'<Override PartName="/docProps/custom.xml"[^>]*/>', "", text)
        if name == "_rels/.rels":
            text = re.sub(r'<Relationship [^>]*Target="docProps/custom.xml"/>', "", text)
        return text.encode()
    return rewrite(src, dst, edit)


def set_meta(src: Path, dst: Path, key: str, value: str) -> Path:
    pattern = rf'(name="libstats_{key}"><vt:lpwstr>)[^<]*(</vt:lpwstr>)'
    return edit_part(src, dst, "docProps/custom.xml", lambda x: re.sub(pattern, rf"\g<1>{value}\g<2>", x))


def put_cell_xml(src: Path, dst: Path, sheet: str, cell: str, xml: str) -> Path:
    """Replace the <c> element of ``cell`` in ``sheet`` by ``xml`` (a formula, an error, an inline string)."""
    part = sheet_part(src, sheet)
    return edit_part(src, dst, part, lambda x: re.sub(rf'<c r="{cell}"[^>]*?(/>|>.*?</c>)', xml, x, count=1))


def add_far_cell(src: Path, dst: Path, sheet: str) -> Path:
    """One cell at XFD1048576 (aborts python-calamine's process; must not hurt libstats)."""
    part = sheet_part(src, sheet)
    far = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'
    return edit_part(src, dst, part, lambda x: x.replace("</sheetData>", far, 1))


def zip_bomb(dst: Path) -> Path:
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", " " * (60 * 2**20))
    return dst


def truncated(src: Path, dst: Path) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])
    return dst


def encrypted(src: Path, dst: Path) -> Path:
    """A real password-to-open .xlsx (agile encryption, as Excel writes it), made with msoffcrypto-tool."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with src.open("rb") as fh, dst.open("wb") as out:
        OOXMLFile(fh).encrypt("matkhau", out)
    return dst


def html_as_xls(dst: Path) -> Path:
    dst.write_text("<html><body><table><tr><td>Số thẻ</td><td>1234</td></tr></table></body></html>",
                   encoding="utf-8")
    return dst


def template_path(out: Path, p=HANOI, form=FORM) -> Path:
    return out / template_filename(form, p)


def raw_file(dst: Path, data: bytes) -> Path:
    dst.write_bytes(data)
    return dst


def merge_cells(src: Path, dst: Path, sheet: str, rng: str) -> Path:
    """A person merged input cells (e.g. 'E15:E16')."""
    def fn(xml: str) -> str:
        if "<mergeCells" in xml:
            return re.sub(r'<mergeCells count="(\d+)">', lambda m: f'<mergeCells count="{int(m[1]) + 1}">'
                          f'<mergeCell ref="{rng}"/>', xml, count=1)
        return xml.replace("</sheetData>", f'</sheetData><mergeCells count="1"><mergeCell ref="{rng}"/></mergeCells>')
    return edit_part(src, dst, sheet_part(src, sheet), fn)
