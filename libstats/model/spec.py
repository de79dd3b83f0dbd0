"""Load a report spec (TOML in workbook_templates/) into frozen dataclasses, checked on load.

The spec is year-independent; :func:`libstats.model.form.build_form` lays it out for one report year. Errors name
the spec key (``sheets[3].items[2].id``) and the problem, including Excel's limits, so a statistician who
edits the outline for a new year learns what to fix before a single workbook is written.
"""

from __future__ import annotations

import difflib
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
    "formula_chars": 8192,  # a formula's text, the check sheet's included
}
_SHEET_FORBIDDEN = set("[]:*?/\\")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*_[a-z0-9_]*$")
_SEVERITIES = {"error", "warning", "none"}
_ITEM_KINDS = {"heading", "note", "field", "narrative", "table", "signature"}
_FIELD_TYPES = {"text", "date", "email", "phone"}
_NUMBER_TYPES = {"count", "decimal"}  # see libstats.model.coerce.NUMBER_TYPES

# Every key the spec format knows, per kind of table: anything else is a misspelling or a stale key, and a
# misspelt optional key (``warn_if_unchaged``) would otherwise switch a check off without a word.
_KEYS = {
    "": {"form", "levels", "total", "types", "indicators", "headlines", "relations", "ratios", "per_inhabitant",
         "sheets"},
    "form": {"id", "version", "title", "short_title", "file_stem", "swing_threshold_pct", "narrative_max_chars",
             "max_count", "when_empty", "national_label", "national_note"},
    "when_empty": {"narrative", "field", "year", "previous_year"},
    "level": {"id", "label", "until", "carried_into", "definition"},
    "total": {"id", "label"},
    "type": {"id", "label", "definition"},
    "indicator": {"id", "label", "unit", "definition", "type"},
    "headline": {"id", "label", "sum", "dim", "short"},
    "relation": {"left", "op", "right", "severity", "message", "left_dim", "right_dim", "check"},
    "ratio": {"numerator", "denominator", "dim", "label"},
    "per_inhabitant": {"id", "label", "sum", "dim", "per"},
    "sheet": {"id", "name", "kind", "part", "part_title", "items"},
    "item": {"kind", "text", "title", "id", "level", "hint", "type", "note", "section", "variants", "rows",
             "warn_if_unchanged", "prefill", "from"},
    "variant": {"from", "text"},
    "row": {"indicator", "by", "dim", "label", "unit"},
}
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
    type: str = "count"  # the number rule of its cells: "count" (whole ≥ 0) or "decimal" (libstats.model.coerce)


@dataclass(frozen=True)
class Headline:
    id: str
    label: str
    sum: tuple[str, ...]
    dim: str = ""  # the level or type it is published for; "" = the total of the levels
    short: str = ""  # a short name for sheet names ("Tỉnh - <short>", at most 31 characters in all)

    @property
    def short_label(self) -> str:
        return self.short or self.label


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


def _known(table: object, kind: str, where: str) -> dict:
    """``table`` as a TOML table whose keys are all known for ``kind``; the first unknown key is named with
    its path and the closest known key."""
    if not isinstance(table, dict):
        raise SpecError(f"{where or 'spec'}: must be a table, got {type(table).__name__}")
    for key in table:
        if key not in _KEYS[kind]:
            close = difflib.get_close_matches(key, sorted(_KEYS[kind]), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(sorted(_KEYS[kind]))}"
            raise SpecError(f"{_join(where, key)}: unknown key{hint} (khóa không có trong định dạng spec)")
    return table


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _tables(data: dict, key: str, kind: str, where: str = "") -> list[tuple[str, dict]]:
    """The array of tables ``data[key]`` (may be absent), each checked for unknown keys, with its path."""
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise SpecError(f"{_join(where, key)}: must be an array of tables ([[{key}]]), got {type(raw).__name__}")
    return [(f"{_join(where, key)}[{i}]", _known(t, kind, f"{_join(where, key)}[{i}]")) for i, t in enumerate(raw)]


def italic_spans(text: str, year: int) -> list[tuple[str, bool]]:
    """The rendered text cut at the outline's *italic* marks: [(text, is_italic), ...], empty pieces left out."""
    pieces = render(text.replace("*", "\x00"), year).split("\x00")
    return [(piece, i % 2 == 1) for i, piece in enumerate(pieces) if piece]


def _req(table: dict, key: str, where: str, kind: type = str):
    if key not in table:
        raise SpecError(f"{_join(where, key)}: thiếu khóa bắt buộc (missing required key)")
    value = table[key]
    if not isinstance(value, kind):
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise SpecError(f"{_join(where, key)}: must be {name}, got {type(value).__name__}")
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


def _items(sheet: dict, where: str) -> tuple[Item, ...]:
    items = []
    for w, it in _tables(sheet, "items", "item", where):
        kind = _req(it, "kind", w)
        if kind not in _ITEM_KINDS:
            raise SpecError(f"{w}.kind: {kind!r} is not one of {sorted(_ITEM_KINDS)}")
        item_id = it.get("id")
        if kind in {"field", "narrative", "table"}:
            item_id = _check_name(_req(it, "id", w), f"{w}.id")
        if kind != "table":
            _req(it, "text", w)
        variants = tuple((_req(v, "from", wv, int), _req(v, "text", wv)) for wv, v in _tables(it, "variants",
                                                                                             "variant", w))
        rows = tuple(RowSpec(indicator=_req(r, "indicator", wr), by=r.get("by"), dim=r.get("dim"),
                             label=r.get("label"), unit=r.get("unit"))
                     for wr, r in _tables(it, "rows", "row", w))
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


def _when_empty(form: dict) -> dict[str, str]:
    when_empty = {"narrative": "warning", "field": "warning", "year": "error", "previous_year": "warning"}
    when_empty.update(_known(form.get("when_empty", {}), "when_empty", "form.when_empty"))
    for k, v in when_empty.items():
        if v not in _SEVERITIES:
            raise SpecError(f"form.when_empty.{k}: {v!r} is not one of {sorted(_SEVERITIES)}")
    return when_empty


def _indicators(data: dict) -> dict[str, Indicator]:
    indicators: dict[str, Indicator] = {}
    for w, ind in _tables(data, "indicators", "indicator"):
        ind_id = _req(ind, "id", w)
        if ind_id in indicators:
            raise SpecError(f"{w}.id: indicator {ind_id!r} is defined twice")
        number_type = ind.get("type", "count")  # the number rule of the indicator's cells
        if number_type not in _NUMBER_TYPES:
            raise SpecError(f"{w}.type: {number_type!r} is not one of {sorted(_NUMBER_TYPES)}")
        indicators[ind_id] = Indicator(ind_id, _req(ind, "label", w), _req(ind, "unit", w),
                                       _req(ind, "definition", w), number_type)
    return indicators


def _sheets(data: dict) -> tuple[SheetSpec, ...]:
    if "sheets" not in data:
        _req(data, "sheets", "", list)
    sheets = []
    for w, sh in _tables(data, "sheets", "sheet"):
        kind = sh.get("kind", "narrative")
        if kind not in {"cover", "narrative", "table"}:
            raise SpecError(f"{w}.kind: {kind!r} is not one of cover, narrative, table")
        sheets.append(SheetSpec(id=_req(sh, "id", w), name=_check_sheet_name(_req(sh, "name", w), f"{w}.name"),
                                kind=kind, part=sh.get("part", ""), part_title=sh.get("part_title", ""),
                                items=_items(sh, w)))
    return tuple(sheets)


def _parse(data: dict, source: str, sha: str) -> Spec:
    _known(data, "", "")
    form = _known(_req(data, "form", "", dict), "form", "form")
    total_raw = _known(_req(data, "total", "", dict), "total", "total")
    spec = Spec(
        id=_req(form, "id", "form"), version=_req(form, "version", "form"), sha256=sha,
        title=_req(form, "title", "form"), short_title=_req(form, "short_title", "form"),
        file_stem=_req(form, "file_stem", "form"),
        swing_threshold_pct=float(_req(form, "swing_threshold_pct", "form", (int, float))),
        narrative_max_chars=_req(form, "narrative_max_chars", "form", int),
        max_count=_req(form, "max_count", "form", int),
        when_empty=_when_empty(form),
        levels=tuple(Level(_req(lv, "id", w), _req(lv, "label", w), lv.get("until"), lv.get("carried_into"),
                           lv.get("definition", ""))
                     for w, lv in _tables(data, "levels", "level")),
        total=Level(_req(total_raw, "id", "total"), _req(total_raw, "label", "total")),
        types=tuple(DimType(_req(t, "id", w), _req(t, "label", w), t.get("definition", ""))
                    for w, t in _tables(data, "types", "type")),
        indicators=_indicators(data),
        headlines=tuple(Headline(_req(h, "id", w), _req(h, "label", w), tuple(_req(h, "sum", w, list)),
                                 h.get("dim", ""), h.get("short", ""))
                        for w, h in _tables(data, "headlines", "headline")),
        relations=tuple(Relation(_req(r, "left", w), _req(r, "op", w), _req(r, "right", w),
                                 r.get("severity", "error"), _req(r, "message", w), r.get("left_dim"),
                                 r.get("right_dim"), r.get("check", ""))
                        for w, r in _tables(data, "relations", "relation")),
        ratios=tuple(Ratio(_req(r, "numerator", w), _req(r, "denominator", w), _req(r, "dim", w), _req(r, "label", w))
                     for w, r in _tables(data, "ratios", "ratio")),
        per_inhabitant=tuple(PerInhabitant(_req(r, "id", w), _req(r, "label", w), tuple(_req(r, "sum", w, list)),
                                           _req(r, "dim", w), r.get("per", 1))
                             for w, r in _tables(data, "per_inhabitant", "per_inhabitant")),
        national_label=form.get("national_label", "Toàn quốc"), national_note=form.get("national_note", ""),
        sheets=_sheets(data), source=source,
    )
    for check in (_check_form, _check_levels, _check_sheets, _check_relations, _check_ratios, _check_headlines,
                  _check_per_inhabitant):
        check(spec)
    return spec


# Cross-checks, one entity each: they see the whole spec, so they can check references between entities.

def _dims(spec: Spec) -> set[str]:
    return {d.id for d in (*spec.levels, spec.total, *spec.types)}


def _check_form(spec: Spec) -> None:
    if not 0 < spec.narrative_max_chars <= EXCEL_LIMITS["cell_chars"]:
        raise SpecError(f"form.narrative_max_chars: {spec.narrative_max_chars} is outside 1..32767 (Excel's cell)")


def _check_levels(spec: Spec) -> None:
    continuing = {x.id for x in spec.levels if x.until is None}
    for i, lv in enumerate(spec.levels):
        if lv.until is not None and lv.carried_into not in continuing:
            raise SpecError(f"levels[{i}].carried_into: a level that ends ({lv.id!r}, until {lv.until}) must say "
                            "which continuing level its figures are carried into")


def _check_sheets(spec: Spec) -> None:
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
                _check_row(spec, row, f"{w}.rows[{k}]")


def _check_row(spec: Spec, row: RowSpec, w: str) -> None:
    if row.indicator not in spec.indicators:
        raise SpecError(f"{w}.indicator: unknown indicator {row.indicator!r}")
    if (row.by is None) == (row.dim is None):
        raise SpecError(f"{w}: give exactly one of by = \"level\" or dim = TYPE")
    if row.by not in (None, "level"):
        raise SpecError(f"{w}.by: only \"level\" is known")
    if row.dim is not None and row.dim not in _dims(spec):
        raise SpecError(f"{w}.dim: unknown dimension {row.dim!r}")


def _check_relations(spec: Spec) -> None:
    for i, rel in enumerate(spec.relations):
        for side in (rel.left, rel.right):
            if side not in spec.indicators:
                raise SpecError(f"relations[{i}]: unknown indicator {side!r}")
        for side in (rel.left_dim, rel.right_dim):
            if side is not None and side not in _dims(spec):
                raise SpecError(f"relations[{i}]: unknown dimension {side!r}")
        if rel.op not in {"<=", ">=", "=="} or rel.severity not in {"error", "warning"}:
            raise SpecError(f"relations[{i}]: op must be <=, >= or ==; severity error or warning")


def _check_ratios(spec: Spec) -> None:
    for i, r in enumerate(spec.ratios):
        for ind in (r.numerator, r.denominator):
            if ind not in spec.indicators:
                raise SpecError(f"ratios[{i}]: unknown indicator {ind!r}")
        if r.dim not in _dims(spec):
            raise SpecError(f"ratios[{i}].dim: unknown dimension {r.dim!r}")


def _check_per_inhabitant(spec: Spec) -> None:
    for i, r in enumerate(spec.per_inhabitant):
        if r.dim not in _dims(spec) or not set(r.sum) <= set(spec.indicators) or not r.per >= 1:
            raise SpecError(f"per_inhabitant[{i}]: unknown dimension or indicator, or per < 1")


def _check_headlines(spec: Spec) -> None:
    for i, h in enumerate(spec.headlines):
        for ind in h.sum:
            if ind not in spec.indicators:
                raise SpecError(f"headlines[{i}].sum: unknown indicator {ind!r}")
        if h.dim and h.dim not in _dims(spec):
            raise SpecError(f"headlines[{i}].dim: unknown dimension {h.dim!r}")
        if len(h.short_label) > 24:
            raise SpecError(f"headlines[{i}]: label longer than 24 characters needs a `short` name (sheet names "
                            "hold 31 characters)")


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
