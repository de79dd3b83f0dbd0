"""Identify a returned workbook and extract every field by its defined name.

Returns plain values keyed by field id, with the cell each came from, and the findings met on the way. The
Excel library stays inside libstats.intake.xlsx; nothing here trusts a stored formula result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from collections.abc import Callable
from functools import cache, lru_cache, partial

from libstats.model.coerce import NUMBER_TYPES, Coerced, coerce_date, coerce_text
from libstats.model.findings import Finding, make
from libstats.model.form import PROVINCE_FIELD, Field, Form, build_form
from libstats.model.provinces import Province, code_list_for_year, name_key, provinces_for_year, slug
from libstats.model.spec import Spec
from libstats.model.layout import COVER_TITLE_CELL, META_CELLS, META_PREFIX, META_SHEET, parse_ref, split_address
from libstats.intake.xlsx import Workbook, read_cells

# Pure and asked the same few hundred names and addresses for every file of a round: remembered.
_parse_ref = lru_cache(maxsize=8192)(parse_ref)
_split_address = lru_cache(maxsize=8192)(split_address)

__all__ = ["Identity", "Extraction", "identify", "extract", "guess_province_from_name", "prepare"]


@dataclass
class Identity:
    form_id: str = ""
    version: str = ""
    year: int | None = None
    province: Province | None = None
    generated: str = ""
    spec_sha256: str = ""  # metadata was gone; found from the layout


@dataclass
class Extraction:
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # field id → (sheet, cell) really read
    flagged: set[str] = field(default_factory=set)  # fields whose value a finding refused or marked n/a
    findings: list[Finding] = field(default_factory=list)


def _version_key(v: str) -> tuple | None:
    try:
        return tuple(int(x) for x in v.split("."))
    except ValueError:
        return None


def _meta(wb: Workbook) -> tuple[dict[str, str], dict[str, str]]:
    """The metadata from the custom properties, and its mirror on the metadata sheet (either may be gone)."""
    custom = {k[len(META_PREFIX):]: v for k, v in wb.custom.items() if k.startswith(META_PREFIX)}
    mirror: dict[str, str] = {}
    meta_sheet = wb.sheet(META_SHEET)
    if meta_sheet is not None and meta_sheet.state != "visible":  # a visible copy is not libstats' own
        cells = read_cells(wb, {META_SHEET: {a for pair in META_CELLS for a in pair}})
        for key_cell, value_cell in META_CELLS:
            key, value = cells.get((META_SHEET, key_cell)), cells.get((META_SHEET, value_cell))
            if key and isinstance(key.value, str) and key.value.startswith(META_PREFIX) and value:
                mirror[key.value[len(META_PREFIX):]] = str(value.value or "")
    return (custom if custom.get("form") else mirror), mirror


def _cover_province(wb: Workbook, spec: Spec, year: int) -> tuple[Province | None, str, str]:
    """The province the cover shows (None: empty, unknown, or not on a visible sheet), with its sheet and cell."""
    f = build_form(year, spec).fields[PROVINCE_FIELD]
    where = parse_ref(wb.names.get(f.id, "")) or (f.sheet, f.cell)
    sheet = wb.sheet(where[0])
    if sheet is None or sheet.state != "visible":
        return None, *where
    cell = read_cells(wb, {where[0]: {where[1]}}).get(where)
    return _province_value(cell.value if cell else None, year), *where


def _settle_province(wb: Workbook, spec: Spec, file: str, ident: Identity, claims: set[str]) -> list[Finding]:
    """The visible cover decides the province: metadata (custom properties or the metadata sheet) naming
    another province never moves a return; any disagreement is an error the officer is shown."""
    if not claims:
        return []
    cover, sheet, addr = _cover_province(wb, spec, ident.year)
    if cover is not None:
        ident.province = cover
    if cover is not None and claims == {cover.code}:
        return []
    if cover is None and len(claims) == 1:
        return []  # an empty cover is R01, an unknown name I08: said by the checks that follow
    others = sorted(claims - {cover.code}) if cover is not None else sorted(claims)
    named = [next((p.name for p in provinces_for_year(ident.year) if p.code == c), c) for c in others]
    if cover is None:
        ident.province = None
    return [make("I10", file=file, sheet=sheet, cell=addr, field=PROVINCE_FIELD, detail=", ".join(named),
                 expected=cover.name if cover else "không rõ")]


def _recover(wb: Workbook, spec: Spec, file: str) -> tuple[Identity, list[Finding]]:
    """No metadata (contents pasted into a new workbook): recognise the layout and the cover."""
    cover = next(s for s in spec.sheets if s.kind == "cover").name
    sheet_names = {s.name for s in wb.sheets}
    known = [s.name for s in spec.sheets if s.name in sheet_names]
    if cover not in sheet_names or len(known) < len(spec.sheets) // 2:
        return Identity(), [make("I07", file=file, detail="không có thông tin mẫu và không nhận ra bố cục")]
    cells = read_cells(wb, {cover: {COVER_TITLE_CELL}})
    title = str(getattr(cells.get((cover, COVER_TITLE_CELL)), "value", "") or "")
    m = re.search(r"năm (\d{4})", title)
    if not m:
        return Identity(), [make("I07", file=file, detail="không đọc được năm báo cáo ở trang Bìa")]
    year = int(m[1])
    ident = Identity(spec.id, "", year)
    return ident, [make("I06", file=file, sheet=cover, cell=COVER_TITLE_CELL, detail=f"mẫu {spec.id}, năm {year}")]


def identify(wb: Workbook, spec: Spec, file: str, expected_year: int | None) -> tuple[Identity, list[Finding]]:
    """Who sent what: form, version, year and province, from the metadata (or the layout when it is gone)."""
    meta, mirror = _meta(wb)
    if not meta.get("form"):
        ident, findings = _recover(wb, spec, file)
        if ident.year is None:
            return ident, findings
    else:
        findings = []
        try:
            year = int(float(meta.get("year", "")))
        except ValueError:
            return Identity(), [make("I07", file=file, detail=f"năm ghi trong tệp là {meta.get('year')!r}")]
        ident = Identity(meta["form"], meta.get("version", ""), year, None, meta.get("generated", ""),
                         spec_sha256=meta.get("spec_sha256", ""))
        if ident.form_id != spec.id:
            return ident, [make("I01", file=file, detail=ident.form_id)]
        have, want = _version_key(ident.version), _version_key(spec.version)
        if ident.version != spec.version:
            if have is not None and want is not None and have < want:
                findings.append(make("I03", file=file, detail=ident.version, expected=spec.version))
            else:
                return ident, [make("I04", file=file, detail=ident.version, expected=spec.version)]
        claims = set()
        for source in (meta, mirror):
            if source.get("province"):
                code_list, _, code = source["province"].partition(":")
                if code_list != code_list_for_year(year):
                    return ident, [make("I09", file=file, detail=code, expected=code_list)]
                claims.add(code)
        if len(claims) == 1:
            ident.province = next((p for p in provinces_for_year(year) if p.code in claims), None)
        findings += _settle_province(wb, spec, file, ident, claims)
    if expected_year is not None and ident.year != expected_year:
        return ident, [*findings, make("I02", file=file, detail=str(ident.year), expected=str(expected_year))]
    return ident, findings


@cache
def _slugs(year: int) -> tuple[tuple[Province, str], ...]:
    return tuple((p, slug(p.name)) for p in provinces_for_year(year))


def guess_province_from_name(file_name: str, year: int) -> Province | None:
    """The province a file name points at ('..._01_ha-noi.xlsx', 'Ha Noi - bao cao.xlsx'), if exactly one."""
    stem = "-" + slug(file_name.rsplit(".", 1)[0]) + "-"
    found = [(p, s) for p, s in _slugs(year) if f"-{s}-" in stem]
    longest = max((len(s) for _, s in found), default=0)
    hits = [p for p, s in found if len(s) == longest]  # 'ba-ria-vung-tau' contains no other name; prefer longest
    return hits[0] if len(hits) == 1 else None


def _locate(wb: Workbook, f: Field, file: str, out: Extraction, noted: set,
            sheet_names: dict[str, str], absent: set[str]) -> tuple[str, str] | None:
    """Where field ``f`` really is: its defined name, or the spec's address with a warning; None when it cannot be
    read, or when it is on a sheet in ``absent`` (an older form's sheet that has names, but not this field's).
    ``sheet_names``: each sheet name → the state of the first sheet of that name."""
    target = wb.names.get(f.id)  # field ids are lower-case by the spec's rule; names were lowered on reading
    if target is None:
        if f.sheet in absent:  # a field the older form did not have: no value, not a guess at a position
            out.flagged.add(f.id)
            return None
        if f.sheet not in sheet_names:
            if ("S07", f.sheet) not in noted:
                noted.add(("S07", f.sheet))
                out.findings.append(make("S07", file=file, sheet=f.sheet))
            return None
        if ("S01", f.sheet) not in noted:  # once per sheet: a pasted copy loses every name at once
            noted.add(("S01", f.sheet))
            out.findings.append(make("S01", file=file, sheet=f.sheet, cell=f.cell, field=f.id, label=f.label))
        target = "'" + f.sheet.replace("'", "''") + "'!" + f.cell  # the spec's address, checked like a name
    if "#REF!" in target:
        out.findings.append(make("S02", file=file, sheet=f.sheet, cell=f.cell, field=f.id, label=f.label,
                                 detail=target))
        return None
    ref = _parse_ref(target)
    if ref is None or ref[0] not in sheet_names:
        out.findings.append(make("S03", file=file, sheet=f.sheet, cell=f.cell, field=f.id, label=f.label,
                                 detail=target))
        return None
    sheet, addr = ref
    if sheet_names[sheet] != "visible":  # the officer never sees it: never consolidated
        if ("S11", sheet) not in noted:
            noted.add(("S11", sheet))
            out.findings.append(make("S11", file=file, sheet=f.sheet, cell=f.cell, field=f.id, label=f.label,
                                     detail=f"'{sheet}' (ô {addr})"))  # located where the officer can go
        out.flagged.add(f.id)  # said once for the sheet; not again as an empty cell
        return None
    if sheet != f.sheet and ("S06", sheet) not in noted:
        noted.add(("S06", sheet))
        out.findings.append(make("S06", file=file, sheet=sheet, detail=f.sheet))
    if addr != f.cell and ("S05", sheet) not in noted:
        noted.add(("S05", sheet))
        out.findings.append(make("S05", file=file, sheet=sheet, cell=addr, field=f.id, label=f.label, detail=f.cell))
    return sheet, addr


def _rectangles(merged: list[str]) -> tuple[list[tuple[str, int, int, int, int]], set[int] | None]:
    """The merged ranges as rectangles, and the rows they cover (None when too many to list)."""
    out, rows = [], set()
    for rng in merged:
        a, _, b = rng.replace("$", "").partition(":")
        (r1, c1), (r2, c2) = _split_address(a), _split_address(b or a)
        out.append((rng, r1, c1, r2, c2))
        if rows is not None and r2 - r1 < 1000 and len(rows) < 100_000:
            rows.update(range(r1, r2 + 1))
        else:
            rows = None
    return out, rows


def _merge_of(rects: tuple[list[tuple[str, int, int, int, int]], set[int] | None], addr: str) -> str | None:
    """The merged range that covers ``addr``, if any."""
    row, col = _split_address(addr)
    if rects[1] is not None and row not in rects[1]:
        return None
    for rng, r1, c1, r2, c2 in rects[0]:
        if r1 <= row <= r2 and c1 <= col <= c2:
            return rng
    return None


def _covered(located: dict[str, tuple[str, str]], merges: dict[str, list[str]]) -> dict[str, str]:
    """The merged range that covers each located field covered by one (field id → range), from each wanted sheet's
    merged ranges."""
    rects = {sheet: _rectangles(ranges) for sheet, ranges in merges.items() if ranges}
    found = {}
    for fid, (sheet, addr) in located.items():
        if sheet in rects:
            rng = _merge_of(rects[sheet], addr)
            if rng is not None:
                found[fid] = rng
    return found


@cache
def _coercers(form: Form) -> dict[str, Callable[[object, bool], Coerced]]:
    """Each field's coercion by the rule of its type, its arguments bound once per form: (value, date1904) → Coerced."""
    out: dict[str, Callable[[object, bool], Coerced]] = {}
    for f in form.fields.values():
        if f.kind == "number":  # only the field's own unit may follow
            rule = partial(NUMBER_TYPES[f.type], units=frozenset({f.unit}), maximum=form.spec.max_count)
            out[f.id] = lambda raw, date1904, rule=rule: rule(raw)
        elif f.type == "date":
            out[f.id] = coerce_date
        else:
            out[f.id] = lambda raw, date1904, n=f.max_chars: coerce_text(raw, n)
    return out


@cache
def _provinces_by_key(year: int) -> dict[str, Province]:
    """Each province of ``year`` by the name key of its name and of its full name (the first in order wins)."""
    found: dict[str, Province] = {}
    for p in provinces_for_year(year):
        found.setdefault(name_key(p.name), p)
        found.setdefault(name_key(p.full_name), p)
    return found


def _province_value(value: object, year: int) -> Province | None:
    return _provinces_by_key(year).get(name_key(value)) if isinstance(value, str) else None


def _located(wb: Workbook, form: Form, file: str, older: bool, out: Extraction
             ) -> tuple[dict[str, tuple[str, str]], dict[str, set[str]]]:
    """Where every field of ``form`` is (field id → (sheet, cell)), and the cells wanted from each sheet."""
    noted: set = set()
    sheet_names = {s.name: s.state for s in reversed(wb.sheets)}  # the first sheet of a name wins, as wb.sheet()
    absent = {form.fields[n].sheet for n in wb.names if n in form.fields} if older else set()
    located: dict[str, tuple[str, str]] = {}
    for f in form.fields.values():
        where = _locate(wb, f, file, out, noted, sheet_names, absent)
        if where is not None:
            located[f.id] = where
    wanted: dict[str, set[str]] = {}
    for sheet, addr in located.values():
        wanted.setdefault(sheet, set()).add(addr)
    return located, wanted


def prepare(form: Form) -> None:
    """Make now what reading the returns of ``form`` derives from it and keeps (workers forked after inherit it)."""
    _coercers(form)
    _provinces_by_key(form.year)
    _slugs(form.year)


def _where(file: str, f: Field, at: tuple[str, str]) -> dict:
    """Where a finding about field ``f``, read at ``at`` (sheet, cell), is."""
    return dict(file=file, sheet=at[0], cell=at[1], field=f.id, label=f.label)


def extract(wb: Workbook, form: Form, file: str, older: bool = False) -> Extraction:
    """Every field of ``form`` read from ``wb``: located, coerced, with findings. ``older``: the file is of an
    older version of the form, whose sheets may lack fields added since (they are absent, never read by
    position)."""
    out = Extraction()
    located, wanted = _located(wb, form, file, older, out)
    cells = read_cells(wb, wanted)  # also reads the protection and merged ranges of the sheets it scans
    covered = _covered(located, {s.name: s.merged for s in wb.sheets if s.name in wanted})
    for s in wb.sheets:
        if s.name in wanted and not s.protected:
            out.findings.append(make("S04", file=file, sheet=s.name))
    fields, values, sources, coercers = form.fields, out.values, out.sources, _coercers(form)
    for fid, at in located.items():
        rng = covered.get(fid) if covered else None
        if rng is not None:
            f, addr = fields[fid], at[1]
            if not rng.replace("$", "").startswith(addr + ":"):  # covered by a merge: its value is gone
                out.findings.append(make("S03", **_where(file, f, at), detail=f"vùng gộp {rng}"))
                out.flagged.add(fid)
                continue
            out.findings.append(make("S10", **_where(file, f, at), detail=rng))  # the first cell keeps its value
        cell = cells.get(at)
        sources[fid] = at
        if cell is None:
            values[fid] = None
            continue
        if cell.formula is not None:
            code = "S09" if cell.value is None and cell.error is None else "S08"
            out.findings.append(make(code, **_where(file, fields[fid], at), detail="=" + cell.formula))
            if code == "S09":
                out.flagged.add(fid)
                values[fid] = None
                continue
        if cell.error is not None:  # #REF!, #N/A...: no value to take, in any input cell (number, text, cover)
            out.findings.append(make("V06", **_where(file, fields[fid], at), detail=cell.error))
            out.flagged.add(fid)
            values[fid] = None
            continue
        if cell.invalid is not None:  # no spreadsheet program shows this <v> as a number
            out.findings.append(make("V05", **_where(file, fields[fid], at), detail=cell.invalid))
            out.flagged.add(fid)
            values[fid] = None
            continue
        if cell.value is None:  # an empty cell: no value, whatever the field's type
            values[fid] = None
            continue
        c = coercers[fid](cell.value, wb.date1904)
        values[fid] = c.value
        if c.code:
            out.findings.append(make(c.code, **_where(file, fields[fid], at), detail=c.detail, value=c.shown,
                                     expected=c.shown))
            if c.refused or c.code == "V08":
                out.flagged.add(fid)
    return out


def province_from_cover(ext: Extraction, year: int) -> Province | None:
    return _province_value(ext.values.get(PROVINCE_FIELD), year)
