"""Year after year: last year's figures prefilled, and the 2025 reform (63 → 34 provinces, no district level).

Rules, stated once here (the statistician's view: the "rebase" command's help and docs/architecture.md):
- every 2025 province is a whole-province merger of 2004-list provinces, so an old figure goes, whole, into
  exactly one new province: the new figure is the sum of its old provinces' figures;
- a level that ended (``until`` in the spec) is carried into the level the spec names (``carried_into``):
  the 2024 district figures are added to the commune level, so totals are unchanged by rebasing;
- a sum with a missing component is missing, never a partial sum;
- codes are only ever compared together with their code list (15 was Yên Bái, is now Lào Cai).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from libstats.model.coerce import NOT_COUNTED, is_not_counted
from libstats.model.form import Form
from libstats.model.provinces import Province, components, provinces_for_year, successor_code
from libstats.model.spec import Spec, default_spec

__all__ = ["rebase_frame", "previous_year_prefill", "carry_map", "Prefill"]


@dataclass(frozen=True)
class Prefill:
    """Last year's figures for one province's form: the values, the fields to lock, a note per field."""

    values: dict[str, object] = field(default_factory=dict)
    locked: frozenset[str] = frozenset()
    notes: dict[str, str] = field(default_factory=dict)


def carry_map(spec: Spec, year: int) -> dict[str, str]:
    """Levels that do not exist in ``year`` → the level their figures are carried into."""
    return {lv.id: lv.carried_into for lv in spec.levels if not lv.exists_in(year) and lv.carried_into}


def rebase_frame(df: pd.DataFrame, code_list: str = "2025", carry: dict[str, str] | None = None) -> pd.DataFrame:
    """Re-express tidy rows of the 2004 list on the 2025 list (sums of whole provinces; ended levels carried)."""
    if code_list != "2025":
        raise ValueError(f"chỉ chuyển được sang danh mục 2025, không sang {code_list!r}")
    carry = carry_map(default_spec(), int(code_list)) if carry is None else carry
    old = df[df["code_list"] == "2004"].copy()
    keep = df[df["code_list"] != "2004"]
    if old.empty:
        return df.copy()
    labels = old.drop_duplicates("dim").set_index("dim")["dim_label"].to_dict() if "dim_label" in old else {}
    old["old_code"] = old["province_code"]
    old["province_code"] = old["province_code"].map(successor_code)
    old["code_list"] = "2025"
    old["dim_before"] = old["dim"]
    old["dim"] = old["dim"].replace(carry)
    keys = ["province_code", "code_list", "indicator", "dim", "year"]
    extra = [c for c in ("section", "table", "unit") if c in old]
    field_ids = _field_ids(old) if "field_id" in old else {}
    grouped = old.groupby(keys + extra, dropna=False, sort=True)
    out = grouped["value"].sum(min_count=1).reset_index()
    gid, n = grouped.ngroup().to_numpy(), len(out)  # each old row's group: the row of ``out`` it adds to
    # a sum only when every old figure is there (an old province's blank is no figure, never a zero)
    out.loc[(grouped["value"].count() != grouped.size()).to_numpy(), "value"] = pd.NA
    if "status" in old:  # x (không thống kê) only when every old figure was x; a mix is no figure
        every_x = (old["status"] == NOT_COUNTED).groupby(gid).all().to_numpy()
        out["status"] = [NOT_COUNTED if x else "" for x in every_x]
    # a new province whose old provinces are not all in the dataset has no figure, never a partial sum
    present: list[set] = [set() for _ in range(n)]
    for g, code in zip(gid, old["old_code"].to_numpy(), strict=True):
        present[g].add(code)
    incomplete = [have != set(components(code)) for have, code in zip(present, out["province_code"], strict=True)]
    out.loc[incomplete, "value"] = pd.NA
    if "status" in out:  # an incomplete sum is no figure, and not "x" either: the cell stays open
        out.loc[incomplete, "status"] = ""
    for col in ("source_file", "sheet", "cell"):
        if col in old:
            seen: list[dict] = [{} for _ in range(n)]  # each group's distinct values in the order met
            for g, v in zip(gid, old[col].to_numpy(), strict=True):
                if not pd.isna(v):
                    seen[g][v] = None
            out[col] = ["; ".join(str(x) for x in d) for d in seen]
    if "source_file" in out:
        missing = [", ".join(sorted(set(components(code)) - have)) for have, code in
                   zip(present, out["province_code"], strict=True)]
        out["source_file"] = [f if not m else f"{f}; thiếu số liệu tỉnh cũ mã {m}" for f, m in
                              zip(out["source_file"], missing, strict=True)]
    names = {p.code: p for p in provinces_for_year(2025)}
    out["province_name"] = out["province_code"].map(lambda c: names[c].name)
    out["region"] = out["province_code"].map(lambda c: names[c].region)
    if labels:
        out["dim_label"] = out["dim"].map(labels)
    if "field_id" in df:
        out["field_id"] = [field_ids.get((ind, dim, year), "") for ind, dim, year in
                           zip(out["indicator"], out["dim"], out["year"], strict=True)]
    out["value"] = out["value"].astype("Int64")
    cols = [c for c in df.columns if c in out.columns]
    return pd.concat([keep, out[cols]], ignore_index=True) if not keep.empty else out[cols]


def _field_ids(old: pd.DataFrame) -> dict[tuple[str, str, int], str]:
    """(indicator, dim, year) → the field id the rows had (the same in every province's form); a carried level
    takes the field id of the level it is carried into."""
    kept = old[(old["dim"] == old["dim_before"]) & old["field_id"].notna()]
    return {(r.indicator, r.dim, int(r.year)): str(r.field_id) for r in kept.itertuples() if r.field_id}


def previous_year_prefill(form: Form, previous: pd.DataFrame) -> Callable[[Province | None], Prefill]:
    """A function giving each province last year's accepted figures (``previous``: a loaded tidy dataset of
    year ``form.year - 1``) for the N-1 column, to lock, with a note saying where each came from; a figure
    missing last year stays open."""
    rows = previous[previous["year"] == form.year - 1]
    if rows.empty:
        raise ValueError(f"bộ dữ liệu năm trước không có số liệu năm {form.year - 1}")
    if set(rows["code_list"]) != {form.code_list}:
        rows = rebase_frame(rows, form.code_list, carry_map(form.spec, form.year))
    uncounted = rows["status"] == NOT_COUNTED if "status" in rows else False  # x last year is prefilled as x
    rows = rows[rows["value"].notna() | uncounted]
    figures = {(r.province_code, r.indicator, r.dim): (NOT_COUNTED if pd.isna(r.value) else int(r.value),
                                                       str(r.source_file), str(r.cell)) for r in rows.itertuples()}

    def prefill(p: Province | None) -> Prefill:
        if p is None:
            return Prefill()
        values, notes = {}, {}
        for r in form.rows:
            got = figures.get((p.code, r.indicator, r.dim))
            if got is None:
                continue
            values[r.p.id] = got[0]
            what = "x (không thống kê)" if is_not_counted(got[0]) else "Số liệu"
            notes[r.p.id] = (f"{what} năm {form.year - 1} lấy từ báo cáo đã được chấp nhận năm trước "
                             f"({got[1]}, ô {got[2]}). Nếu cần đính chính, ghi ở cột Giải thích.")
        return Prefill(values=values, locked=frozenset(values), notes=notes)

    return prefill
