"""Load a report spec (TOML in workbook_templates/) into frozen dataclasses, checked on load.

The spec is year-independent; :func:`libstats.form.build_form` lays it out for one report year. Errors name
the spec key (``sheets[3].items[2].id``) and the problem, including Excel's limits, so a statistician who
edits the outline for a new year learns what to fix before a single workbook is written.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

__all__ = [
    "SpecError",
    "Spec",
    "Level",
    "DimType",
    "Indicator",
    "Headline",
    "Relation",
    "Ratio",
    "PerInhabitant",
    "Item",
    "RowSpec",
    "SheetSpec",
    "load_spec",
    "default_spec",
    "render",
    "italic_spans",
    "EXCEL_LIMITS",
]

# Excel's own limits, checked here because XlsxWriter only warns and leaves the item out.
EXCEL_LIMITS = {
    "sheet_name": 31,
    "cell_chars": 32767,
    "validation_list": 255,
    "validation_title": 32,
    "validation_message": 255,
    "defined_name": 255,
}
_SHEET_FORBIDDEN = set("[]:*?/\\")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*_[a-z0-9_]*$")
_SEVERITIES = {"error", "warning", "none"}
_ITEM_KINDS = {"heading", "note", "field", "narrative", "table", "signature"}
_FIELD_TYPES = {"text", "date", "email", "phone"}
_PREFILLS = {"sender.name", "sender.symbol"}  # the attributes of provinces.Sender a cover field may start from


class SpecError(ValueError):
    """A spec that cannot be used: names the key and the problem."""


@dataclass(frozen=True)
class Level:
    id: str
    label: str
    until: int | None = None
    carried_into: str | None = None  # where its figures go in years after ``until``
    definition: str = ""  # what the level's figures include (the "Định nghĩa" sheet)

    def exists_in(self, year: int) -> bool:
        return self.until is None or year <= self.until


@dataclass(frozen=True)
class DimType:
    id: str
    label: str
    definition: str = ""


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str
    unit: str
    definition: str


@dataclass(frozen=True)
class Headline:
    id: str
    label: str
    sum: tuple[str, ...]


@dataclass(frozen=True)
class Relation:
    left: str
    op: str
    right: str
    severity: str
    message: str
    left_dim: str | None = None  # None: the relation holds in every row dimension both indicators have
    right_dim: str | None = None  # e.g. cars' visits (o_to) ≤ outreach visits of all levels (tong)
    check: str = ""  # the check sheet's line: what is checked, stated as the condition to meet


@dataclass(frozen=True)
class Ratio:
    numerator: str
    denominator: str
    dim: str
    label: str


@dataclass(frozen=True)
class PerInhabitant:
    """A figure read per inhabitant (the Ministry's "bình quân số bản sách/người"): the sum of indicators in one
    dimension, times ``per``, divided by the province's population."""

    id: str
    label: str
    sum: tuple[str, ...]
    dim: str
    per: int = 1


@dataclass(frozen=True)
class RowSpec:
    indicator: str
    by: str | None = None  # "level": one row per public level of the year, plus the total
    dim: str | None = None  # a type id, for a single row
    label: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Item:
    kind: str
    text: str = ""
    id: str | None = None
    level: int = 0
    hint: str = ""
    type: str = "text"
    note: str = ""
    section: str = ""
    variants: tuple[tuple[int, str], ...] = ()
    rows: tuple[RowSpec, ...] = ()
    warn_if_unchanged: bool = False
    prefill: str = ""  # cover fields: what the generator prefills ("sender.name", "sender.symbol")
    since: int = 0  # first report year the item is in the form (e.g. the fate of the former district libraries)

    def exists_in(self, year: int) -> bool:
        return year >= self.since

    def text_for(self, year: int) -> str:
        chosen = self.text
        for start, text in sorted(self.variants):
            if year >= start:
                chosen = text
        return chosen


@dataclass(frozen=True)
class SheetSpec:
    id: str
    name: str
    kind: str  # "cover", "narrative" or "table"
    part: str = ""
    part_title: str = ""
    items: tuple[Item, ...] = ()


@dataclass(frozen=True, eq=False)  # identity hash: a loaded spec is a value object that layouts cache on
class Spec:
    id: str
    version: str
    sha256: str
    title: str
    short_title: str
    file_stem: str
    swing_threshold_pct: float
    narrative_max_chars: int
    max_count: int
    when_empty: dict[str, str]
    levels: tuple[Level, ...]
    total: Level
    types: tuple[DimType, ...]
    indicators: dict[str, Indicator]
    headlines: tuple[Headline, ...]
    relations: tuple[Relation, ...]
    ratios: tuple[Ratio, ...]
    sheets: tuple[SheetSpec, ...]
    source: str = field(default="", compare=False)
    per_inhabitant: tuple[PerInhabitant, ...] = ()
    national_label: str = "Toàn quốc"  # what every national total is called in summaries and reports
    national_note: str = ""  # what the national totals leave out, said once under each national table

    def dim_label(self, dim: str) -> str:
        for d in (*self.levels, self.total, *self.types):
            if d.id == dim:
                return d.label
        raise KeyError(dim)


def render(text: str, year: int) -> str:
    """Year-dependent wording: {year}, {prev}, {next}; the outline's *italic* marks dropped; NFC."""
    out = text.replace("{year}", str(year)).replace("{prev}", str(year - 1)).replace("{next}", str(year + 1))
    return unicodedata.normalize("NFC", out.replace("*", ""))


def italic_spans(text: str, year: int) -> list[tuple[str, bool]]:
    """The rendered text cut at the outline's *italic* marks: [(text, is_italic), ...], empty pieces left out."""
    pieces = render(text.replace("*", "\x00"), year).split("\x00")
    return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]


def _req(table: dict, key: str, where: str, kind: type = str):
    if key not in table:
        raise SpecError(f"{where}.{key}: thiếu khóa bắt buộc (missing required key)")
    value = table[key]
    if not isinstance(value, kind):
        raise SpecError(f"{where}.{key}: must be {kind.__name__}, got {type(value).__name__}")
    return unicodedata.normalize("NFC", value) if isinstance(value, str) else value


def _check_name(name: str, where: str) -> str:
    if not _NAME_RE.match(name) or len(name) > EXCEL_LIMITS["defined_name"] - 3:
        raise SpecError(
            f"{where}: {name!r} cannot be a workbook defined name: use lower-case ASCII letters, digits and "
            "'_', start with a letter and contain at least one '_' (so it never looks like a cell such as "
            "'vh2024')"
        )
    return name


def _check_sheet_name(name: str, where: str) -> str:
    if not name or len(name) > EXCEL_LIMITS["sheet_name"]:
        raise SpecError(f"{where}: sheet name {name!r} has {len(name)} characters; Excel allows 1 to 31")
    bad = _SHEET_FORBIDDEN.intersection(name)
    if bad or name.startswith("'") or name.endswith("'"):
        raise SpecError(f"{where}: sheet name {name!r} contains {''.join(sorted(bad)) or chr(39)}")
    return name


def _items(raw: list, where: str) -> tuple[Item, ...]:
    items = []
    for i, it in enumerate(raw):
        w = f"{where}.items[{i}]"
        kind = _req(it, "kind", w)
        if kind not in _ITEM_KINDS:
            raise SpecError(f"{w}.kind: {kind!r} is not one of {sorted(_ITEM_KINDS)}")
        item_id = it.get("id")
        if kind in {"field", "narrative", "table"}:
            item_id = _check_name(_req(it, "id", w), f"{w}.id")
        if kind != "table":
            _req(it, "text", w)
        variants = tuple((_req(v, "from", f"{w}.variants", int), _req(v, "text", f"{w}.variants"))
                         for v in it.get("variants", []))
        rows = tuple(RowSpec(indicator=_req(r, "indicator", f"{w}.rows[{j}]"), by=r.get("by"), dim=r.get("dim"),
                             label=r.get("label"), unit=r.get("unit"))
                     for j, r in enumerate(it.get("rows", [])))
        if kind == "table" and not rows:
            raise SpecError(f"{w}.rows: a table needs at least one row")
        prefill = it.get("prefill", "")
        if prefill and prefill not in _PREFILLS:
            raise SpecError(f"{w}.prefill: {prefill!r} is not one of {sorted(_PREFILLS)}")
        ftype = it.get("type", "text")
        if ftype not in _FIELD_TYPES:
            raise SpecError(f"{w}.type: {ftype!r} is not one of {sorted(_FIELD_TYPES)}")
        text = unicodedata.normalize("NFC", it.get("text", it.get("title", "")))
        items.append(Item(kind=kind, text=text, id=item_id, level=it.get("level", 0), hint=it.get("hint", ""),
                          type=ftype, note=it.get("note", ""), section=it.get("section", ""),
                          variants=variants, rows=rows, warn_if_unchanged=bool(it.get("warn_if_unchanged")),
                          prefill=prefill, since=it.get("from", 0)))
    return tuple(items)


def _parse(data: dict, source: str, sha: str) -> Spec:
    form = _req(data, "form", "", dict)
    when_empty = {"narrative": "warning", "field": "warning", "year": "error", "previous_year": "warning"}
    when_empty.update(form.get("when_empty", {}))
    for k, v in when_empty.items():
        if v not in _SEVERITIES:
            raise SpecError(f"form.when_empty.{k}: {v!r} is not one of {sorted(_SEVERITIES)}")
    levels = tuple(Level(_req(lv, "id", f"levels[{i}]"), _req(lv, "label", f"levels[{i}]"), lv.get("until"),
                         lv.get("carried_into"), lv.get("definition", ""))
                   for i, lv in enumerate(data.get("levels", [])))
    total_raw = _req(data, "total", "", dict)
    total = Level(_req(total_raw, "id", "total"), _req(total_raw, "label", "total"))
    types = tuple(DimType(_req(t, "id", f"types[{i}]"), _req(t, "label", f"types[{i}]"), t.get("definition", ""))
                  for i, t in enumerate(data.get("types", [])))
    indicators = {}
    for i, ind in enumerate(data.get("indicators", [])):
        w = f"indicators[{i}]"
        ind_id = _req(ind, "id", w)
        if ind_id in indicators:
            raise SpecError(f"{w}.id: indicator {ind_id!r} is defined twice")
        indicators[ind_id] = Indicator(ind_id, _req(ind, "label", w), _req(ind, "unit", w),
                                       _req(ind, "definition", w))
    headlines = tuple(Headline(_req(h, "id", f"headlines[{i}]"), _req(h, "label", f"headlines[{i}]"),
                               tuple(_req(h, "sum", f"headlines[{i}]", list)))
                      for i, h in enumerate(data.get("headlines", [])))
    relations = tuple(Relation(_req(r, "left", f"relations[{i}]"), _req(r, "op", f"relations[{i}]"),
                               _req(r, "right", f"relations[{i}]"), r.get("severity", "error"),
                               _req(r, "message", f"relations[{i}]"), r.get("left_dim"), r.get("right_dim"),
                               r.get("check", ""))
                      for i, r in enumerate(data.get("relations", [])))
    ratios = tuple(Ratio(_req(r, "numerator", f"ratios[{i}]"), _req(r, "denominator", f"ratios[{i}]"),
                         _req(r, "dim", f"ratios[{i}]"), _req(r, "label", f"ratios[{i}]"))
                   for i, r in enumerate(data.get("ratios", [])))
    per_inhabitant = tuple(PerInhabitant(_req(r, "id", w := f"per_inhabitant[{i}]"), _req(r, "label", w),
                                         tuple(_req(r, "sum", w, list)), _req(r, "dim", w), r.get("per", 1))
                           for i, r in enumerate(data.get("per_inhabitant", [])))
    sheets = []
    for i, sh in enumerate(_req(data, "sheets", "", list)):
        w = f"sheets[{i}]"
        kind = sh.get("kind", "narrative")
        if kind not in {"cover", "narrative", "table"}:
            raise SpecError(f"{w}.kind: {kind!r} is not one of cover, narrative, table")
        sheets.append(SheetSpec(id=_req(sh, "id", w), name=_check_sheet_name(_req(sh, "name", w), f"{w}.name"),
                                kind=kind, part=sh.get("part", ""), part_title=sh.get("part_title", ""),
                                items=_items(sh.get("items", []), w)))
    spec = Spec(
        id=_req(form, "id", "form"), version=_req(form, "version", "form"), sha256=sha,
        title=_req(form, "title", "form"), short_title=_req(form, "short_title", "form"),
        file_stem=_req(form, "file_stem", "form"),
        swing_threshold_pct=float(_req(form, "swing_threshold_pct", "form", (int, float))),
        narrative_max_chars=_req(form, "narrative_max_chars", "form", int),
        max_count=_req(form, "max_count", "form", int),
        when_empty=when_empty, levels=levels, total=total, types=types, indicators=indicators,
        headlines=headlines, relations=relations, ratios=ratios, sheets=tuple(sheets), source=source,
        per_inhabitant=per_inhabitant, national_label=form.get("national_label", "Toàn quốc"),
        national_note=form.get("national_note", ""),
    )
    _cross_check(spec)
    return spec


def _cross_check(spec: Spec) -> None:
    if not 0 < spec.narrative_max_chars <= EXCEL_LIMITS["cell_chars"]:
        raise SpecError(f"form.narrative_max_chars: {spec.narrative_max_chars} is outside 1..32767 (Excel's cell)")
    dims = {d.id for d in (*spec.levels, spec.total, *spec.types)}
    for i, lv in enumerate(spec.levels):
        if lv.until is not None and lv.carried_into not in {x.id for x in spec.levels if x.until is None}:
            raise SpecError(f"levels[{i}].carried_into: a level that ends ({lv.id!r}, until {lv.until}) must say "
                            "which continuing level its figures are carried into")
    names = [s.name.casefold() for s in spec.sheets]
    if len(set(names)) != len(names):
        raise SpecError("sheets: two sheets have the same name (Excel ignores case)")
    seen: set[str] = set()
    for i, sh in enumerate(spec.sheets):
        for j, it in enumerate(sh.items):
            w = f"sheets[{i}].items[{j}]"
            if it.id:
                if it.id in seen:
                    raise SpecError(f"{w}.id: {it.id!r} is used twice")
                seen.add(it.id)
            for k, row in enumerate(it.rows):
                if row.indicator not in spec.indicators:
                    raise SpecError(f"{w}.rows[{k}].indicator: unknown indicator {row.indicator!r}")
                if (row.by is None) == (row.dim is None):
                    raise SpecError(f"{w}.rows[{k}]: give exactly one of by = \"level\" or dim = TYPE")
                if row.by not in (None, "level"):
                    raise SpecError(f"{w}.rows[{k}].by: only \"level\" is known")
                if row.dim is not None and row.dim not in dims:
                    raise SpecError(f"{w}.rows[{k}].dim: unknown dimension {row.dim!r}")
    for i, rel in enumerate(spec.relations):
        for side in (rel.left, rel.right):
            if side not in spec.indicators:
                raise SpecError(f"relations[{i}]: unknown indicator {side!r}")
        for side in (rel.left_dim, rel.right_dim):
            if side is not None and side not in dims:
                raise SpecError(f"relations[{i}]: unknown dimension {side!r}")
        if rel.op not in {"<=", ">=", "=="} or rel.severity not in {"error", "warning"}:
            raise SpecError(f"relations[{i}]: op must be <=, >= or ==; severity error or warning")
    for i, r in enumerate(spec.ratios):
        for ind in (r.numerator, r.denominator):
            if ind not in spec.indicators:
                raise SpecError(f"ratios[{i}]: unknown indicator {ind!r}")
        if r.dim not in dims:
            raise SpecError(f"ratios[{i}].dim: unknown dimension {r.dim!r}")
    for i, r in enumerate(spec.per_inhabitant):
        if r.dim not in dims or not set(r.sum) <= set(spec.indicators) or not r.per >= 1:
            raise SpecError(f"per_inhabitant[{i}]: unknown dimension or indicator, or per < 1")
    for i, h in enumerate(spec.headlines):
        for ind in h.sum:
            if ind not in spec.indicators:
                raise SpecError(f"headlines[{i}].sum: unknown indicator {ind!r}")


def load_spec(path: str | Path) -> Spec:
    """Load and check a spec file; SpecError names the key at fault."""
    raw = Path(path).read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path}: not a valid UTF-8 TOML file: {exc}") from exc
    return _parse(data, str(path), hashlib.sha256(raw).hexdigest()[:16])


@cache
def default_spec() -> Spec:
    """The spec shipped with libstats (the Ministry's current outline)."""
    ref = resources.files("libstats.workbook_templates").joinpath("bao-cao-thu-vien.toml")
    with resources.as_file(ref) as path:
        return load_spec(path)
