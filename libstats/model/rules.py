"""The checks a return must pass, each a small rule built from the spec.

Every rule has two faces that must agree:
- ``formula()``: an Excel formula for the live check sheet ("Kiểm tra") of the template, written against the
  fields' defined names (adjacent cells, as a table's column of levels, as one range: 'Sheet'!E7:E9), that
  shows "Đạt", "—" (nothing to check yet), "Lỗi: …" or "Cảnh báo: …";
- ``status(values)``: the same answer computed in Python (the cached result written into the template, and
  the oracle the LibreOffice tests compare against), and ``findings(ctx)``: typed findings for the validator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Protocol
from collections.abc import Callable, Iterator

from libstats.model.coerce import NOT_COUNTED, is_not_counted
from libstats.model.findings import Finding, fmt_number, make
from libstats.model.form import PROVINCE_FIELD, Field, Form, Table, TableRow
from libstats.model.layout import TABLE_COLUMNS, cell_name

__all__ = ["Context", "Rule", "EmptyRule", "SumRule", "RelationRule", "SwingRule", "SameAsLastYearRule",
           "build_rules", "OK", "NA", "pct_change"]

OK, NA = "Đạt", "—"


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _xl(v) -> str:
    """A number as Excel's & operator turns it into text (1234567, 12.5)."""
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def pct_change(n, p) -> float | None:
    """Percent change as the Ministry publishes it: (N − (N−1)) / (N−1) × 100; None when N−1 is 0 or missing."""
    if not (_is_num(n) and _is_num(p)) or p == 0:
        return None
    return (n - p) / p * 100


@dataclass
class Context:
    """What a rule needs: the form, the values read (coerced), where each field really was, the file name."""

    form: Form
    values: dict[str, object]
    locations: dict[str, tuple[str, str]] = field(default_factory=dict)
    file: str = ""
    flagged: set[str] = field(default_factory=set)  # fields a value finding already covers

    def finding(self, code: str, f: Field, **params) -> Finding:
        sheet, cell = self.locations.get(f.id, (f.sheet, f.cell))
        return make(code, file=self.file, sheet=sheet, cell=cell, field=f.id, label=f.label, **params)


class Rule(Protocol):
    severity: str

    def describe(self) -> str: ...

    def target(self) -> Field: ...

    def formula(self) -> str: ...

    def status(self, values: dict) -> str: ...

    def findings(self, ctx: Context) -> Iterator[Finding]: ...


def _prefix(severity: str) -> str:
    return "Lỗi: " if severity == "error" else "Cảnh báo: "


def _q(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _below(a: Field, b: Field) -> bool:
    """Whether ``b``'s cell is the one right below ``a``'s."""
    return a.sheet == b.sheet and a.col == b.col and b.row == a.row + 1


def _runs(items, below: Callable[[object, object], bool] = _below) -> list[tuple]:
    """``items`` as runs in which each is ``below`` the one before (fields: adjacent cells, one below the other
    on one sheet): (first, last) of each run."""
    runs: list[tuple] = []
    for item in items:
        if runs and below(runs[-1][1], item):
            runs[-1] = (runs[-1][0], item)
        else:
            runs.append((item, item))
    return runs


def _range(first: Field, last: Field) -> str:
    """A run of cells as one reference: the field's defined name if it is one cell, else 'Sheet'!E7:E9."""
    if first is last:
        return first.id
    return f"'{first.sheet.replace(chr(39), chr(39) * 2)}'!{first.cell}:{last.cell}"


def _ranges(fields) -> list[str]:
    """The cells of ``fields`` as few references as they allow (a table's column is one range)."""
    return [_range(a, b) for a, b in _runs(fields)]


def _count_x(refs: list[str]) -> str:
    """The number of cells of ``refs`` holding "x" (không thống kê): COUNTIF matches as ``cell="x"`` does, so "X"
    too, and never " x" or "xx"; a number, never TRUE."""
    counts = [f'COUNTIF({r},"{NOT_COUNTED}")' for r in refs]
    return counts[0] if len(counts) == 1 else "(0" + "".join("+" + c for c in counts) + ")"


@dataclass(frozen=True)
class EmptyRule:
    """Inputs of one group (a sheet's narratives, a table's year column) must be filled."""

    fields: tuple[Field, ...]
    severity: str
    what: str

    def describe(self) -> str:
        return f"Các ô {self.what} đã được điền đầy đủ"

    def target(self) -> Field:
        return self.fields[0]

    def _count(self) -> str:
        """The number of empty cells, each cell written once (a table's column as one range): number cells less
        those holding a number or "x" (không thống kê, which is filled), plus the text cells that are blank
        (COUNTBLANK over a run of them, ``LEN(f)=0`` for one: both count an empty cell and an empty text)."""
        numbers = [f for f in self.fields if f.kind == "number"]
        nums = _ranges(numbers)
        counts = "".join(f"-COUNT({','.join(nums[i:i + 200])})" for i in range(0, len(nums), 200))
        xs = "".join(f'-COUNTIF({r},"{NOT_COUNTED}")' for r in nums)
        texts = "".join(f"+(LEN({a.id})=0)" if a is b else f"+COUNTBLANK({_range(a, b)})"
                        for a, b in _runs(f for f in self.fields if f.kind != "number"))
        return f"{len(numbers)}{counts}{xs}{texts}"  # starts with a number: a number, never a lone TRUE/FALSE

    def formula(self) -> str:
        # "còn 0 ô trống" turned into "Đạt" by SUBSTITUTE: the count is written once, not twice as IF would need
        lead = _prefix(self.severity) + "còn "
        return f'=SUBSTITUTE({_q(lead)}&({self._count()})&{_q(" ô trống")},{_q(lead + "0 ô trống")},{_q(OK)})'

    def _empty(self, f: Field, v) -> bool:
        return not (_is_num(v) or is_not_counted(v)) if f.kind == "number" else (v is None or str(v) == "")

    def status(self, values: dict) -> str:
        n = sum(self._empty(f, values.get(f.id)) for f in self.fields)
        return OK if n == 0 else f"{_prefix(self.severity)}còn {n} ô trống"

    def findings(self, ctx: Context) -> Iterator[Finding]:
        for f in self.fields:
            if f.id not in ctx.flagged and self._empty(f, ctx.values.get(f.id)):
                what = "con số (0 nếu không có)" if f.kind == "number" else "nội dung"
                yield ctx.finding("R01", f, severity=self.severity, detail=what)


@dataclass(frozen=True)
class SumRule:
    """A total row equals the sum of its level rows, in one column (year N or N−1).

    Checked when the total and some level are filled (an empty cell is the empty-cell rule's to report). A
    level marked "x" (không thống kê) is not a zero: the total is the sum of the levels that were counted, and
    both faces say so ("Đạt (không tính 1 ô ghi x)"; an R06 information finding). A total marked "x" while
    some level has a figure is an error: the total of what was counted can be written."""

    total: Field
    parts: tuple[Field, ...]

    severity = "error"

    def describe(self) -> str:
        return f"Tổng cộng bằng tổng các cấp: {self.total.label}"

    def target(self) -> Field:
        return self.total

    def formula(self) -> str:
        t, refs = self.total.id, _ranges(self.parts)  # the levels: one range when they are adjacent rows
        parts = ",".join(refs)
        nx = _count_x(refs)
        # written once after both results; SUBSTITUTE drops it when no level is "x" (nx appears once in it)
        suffix = f'SUBSTITUTE({_q(" (không tính ")}&{nx}&{_q(" ô ghi x)")},{_q(" (không tính 0 ô ghi x)")},"")'
        return (f'=IF({t}="{NOT_COUNTED}",IF(COUNT({parts})=0,{_q(NA)},'
                f'{_q("Lỗi: tổng cộng ghi x nhưng các cấp có số liệu ")}&SUM({parts})),'
                f'IF(OR(COUNT({t})=0,COUNT({parts})+{nx}=0),{_q(NA)},'
                f'IF({t}=SUM({parts}),{_q(OK)},{_q("Lỗi: tổng cộng ")}&{t}&{_q(" khác tổng các cấp ")}&SUM({parts}))'
                f'&{suffix}))')

    def _sum(self, values: dict) -> float:
        return sum(v for p in self.parts if _is_num(v := values.get(p.id)))

    def _not_counted(self, values: dict) -> list[Field]:
        return [p for p in self.parts if is_not_counted(values.get(p.id))]

    def status(self, values: dict) -> str:
        t = values.get(self.total.id)
        counted = any(_is_num(values.get(p.id)) for p in self.parts)
        nx = len(self._not_counted(values))
        s = self._sum(values)
        if is_not_counted(t):
            return f"Lỗi: tổng cộng ghi x nhưng các cấp có số liệu {_xl(s)}" if counted else NA
        if not _is_num(t) or not (counted or nx):  # an empty total or empty levels: R01 says so, not this rule
            return NA
        suffix = f" (không tính {nx} ô ghi x)" if nx else ""
        return OK + suffix if t == s else f"Lỗi: tổng cộng {_xl(t)} khác tổng các cấp {_xl(s)}{suffix}"

    def findings(self, ctx: Context) -> Iterator[Finding]:
        t = ctx.values.get(self.total.id)
        counted = any(_is_num(ctx.values.get(p.id)) for p in self.parts)
        uncounted = self._not_counted(ctx.values)
        s = self._sum(ctx.values)
        if is_not_counted(t) and counted:
            yield ctx.finding("R02", self.total, value=NOT_COUNTED, expected=fmt_number(s))
        elif _is_num(t) and (counted or uncounted):
            where = "ô " + ", ".join(ctx.form.spec.dim_label(p.dim) for p in uncounted) if uncounted else ""
            if t != s:
                note = f" (không tính {where} ghi x)" if uncounted else ""
                yield ctx.finding("R02", self.total, value=fmt_number(t), expected=fmt_number(s) + note)
            elif uncounted:
                yield ctx.finding("R06", self.total, value=fmt_number(t), detail=where)


_OPS = {"<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b, "==": lambda a, b: a == b}
_XL_OPS = {"<=": "<=", ">=": ">=", "==": "="}


@dataclass(frozen=True)
class RelationRule:
    """A relation the spec declares between two indicators, year N: in every row dimension both have, or
    between the two rows the spec names (``left_dim``/``right_dim``: cars' visits ≤ outreach visits of all
    levels). The check sheet's line is the condition to meet (``check``), with the level when the relation
    is repeated per level."""

    left: Field
    right: Field
    op: str
    severity: str
    message: str
    check: str = ""

    def describe(self) -> str:
        return self.check or self.message

    def target(self) -> Field:
        return self.left

    def formula(self) -> str:
        a, b = self.left.id, self.right.id
        return (f'=IF(COUNT({a},{b})=2,IF({a}{_XL_OPS[self.op]}{b},{_q(OK)},'
                f'{_q(_prefix(self.severity) + "không thỏa mãn")}),{_q(NA)})')

    def status(self, values: dict) -> str:
        a, b = values.get(self.left.id), values.get(self.right.id)
        if not (_is_num(a) and _is_num(b)):
            return NA
        return OK if _OPS[self.op](a, b) else _prefix(self.severity) + "không thỏa mãn"

    def findings(self, ctx: Context) -> Iterator[Finding]:
        a, b = ctx.values.get(self.left.id), ctx.values.get(self.right.id)
        if _is_num(a) and _is_num(b) and not _OPS[self.op](a, b):
            yield ctx.finding("R03", self.left, severity=self.severity, detail=self.message, value=fmt_number(a),
                              expected=f"'{self.right.label}' = {fmt_number(b)}")


@dataclass(frozen=True)
class SwingRule:
    """A year-over-year change past the threshold needs an explanation."""

    row: TableRow
    threshold_pct: float

    severity = "warning"

    def describe(self) -> str:
        return f"Thay đổi quá {self.threshold_pct:g}% có giải thích: {self.row.label} ({self.row.dim_label})"

    def target(self) -> Field:
        return self.row.n

    def formula(self) -> str:
        # the table's own rate cell, (N − (N−1)) / (N−1) × 100 or "", is what pct_change computes
        sheet = self.row.n.sheet.replace("'", "''")
        pct, gc = f"'{sheet}'!{cell_name(self.row.row, TABLE_COLUMNS['pct'])}", self.row.gc.id
        return (f'=IF(ISNUMBER({pct}),IF(AND(ABS({pct})>{self.threshold_pct:g},LEN({gc})=0),'
                f'{_q("Cảnh báo: cần giải thích")},{_q(OK)}),{_q(NA)})')

    def _swing(self, values: dict) -> float | None:
        return pct_change(values.get(self.row.n.id), values.get(self.row.p.id))

    def _unexplained(self, pct: float | None, values: dict) -> bool:
        """Whether the change ``pct`` passes the threshold with no explanation given."""
        return pct is not None and abs(pct) > self.threshold_pct and not str(values.get(self.row.gc.id) or "")

    def status(self, values: dict) -> str:
        pct = self._swing(values)
        if pct is None:
            return NA
        return "Cảnh báo: cần giải thích" if self._unexplained(pct, values) else OK

    def findings(self, ctx: Context) -> Iterator[Finding]:
        pct = self._swing(ctx.values)
        if self._unexplained(pct, ctx.values):
            yield ctx.finding("R04", self.row.n, detail=f"{pct:+.1f}%".replace(".", ","),
                              expected=f"{self.threshold_pct:g}%")


@dataclass(frozen=True)
class SameAsLastYearRule:
    """Every figure of a table equal to last year's is usually a copy, not this year's data."""

    table: Table

    severity = "warning"

    def describe(self) -> str:
        return f"Số liệu năm nay không chép nguyên năm trước: {self.table.title}"

    def target(self) -> Field:
        return self.table.rows[0].n

    def formula(self) -> str:
        rows = self.table.rows
        # adjacent rows: their N and N-1 cells are two ranges of one shape
        blocks = _runs(rows, lambda a, b: _below(a.n, b.n) and _below(a.p, b.p))
        ns = ",".join(_range(a.n, b.n) for a, b in blocks)
        # SUMPRODUCT compares the two ranges cell by cell in every spreadsheet program (no array formula)
        same = "+".join(f"SUMPRODUCT(--({_range(a.n, b.n)}={_range(a.p, b.p)}))" for a, b in blocks)
        return (f'=IF(OR(COUNT({ns})<{len(rows)},SUM({ns})=0),{_q(NA)},IF({same}={len(rows)},'
                f'{_q("Cảnh báo: giống hệt năm trước")},{_q(OK)}))')

    def status(self, values: dict) -> str:
        pairs = [(values.get(r.n.id), values.get(r.p.id)) for r in self.table.rows]
        if not all(_is_num(n) for n, _ in pairs) or not any(n for n, _ in pairs):
            return NA
        return "Cảnh báo: giống hệt năm trước" if all(n == p for n, p in pairs) else OK

    def findings(self, ctx: Context) -> Iterator[Finding]:
        if self.status(ctx.values) not in (OK, NA):
            yield ctx.finding("R05", self.target(), detail=f"“{self.table.title}”")


@cache
def build_rules(form: Form) -> tuple[Rule, ...]:
    """Every rule of the form, in the order the check sheet lists them."""
    spec, rules = form.spec, []
    province = form.fields[PROVINCE_FIELD]
    rules.append(EmptyRule((province,), "error", f"{province.label.lower()} ở trang “{province.sheet}”"))
    for sheet in form.sheets:
        narratives = tuple(f for it in sheet.items if (f := it.field) is not None)
        sev = spec.when_empty["narrative" if sheet.spec.kind != "cover" else "field"]
        if narratives and sev != "none":
            rules.append(EmptyRule(narratives, sev, f"nội dung ở trang “{sheet.name}”"))
        for table in sheet.tables:
            for col, key, label in (("n", "year", f"năm {form.year}"), ("p", "previous_year", f"năm {form.year - 1}")):
                if spec.when_empty[key] != "none":
                    rules.append(EmptyRule(tuple(getattr(r, col) for r in table.rows), spec.when_empty[key],
                                           f"{label} của {table.title.split('.')[0]}"))
    for table in form.tables:
        by_ind: dict[str, list[TableRow]] = {}
        for r in table.rows:
            by_ind.setdefault(r.indicator, []).append(r)
        for rows in by_ind.values():
            totals = [r for r in rows if r.is_total]
            parts = [r for r in rows if not r.is_total]
            for total in totals:
                for col in ("n", "p"):
                    rules.append(SumRule(getattr(total, col), tuple(getattr(r, col) for r in parts)))
    rows_by_key = {(r.indicator, r.dim): r for r in form.rows}
    for rel in spec.relations:
        for (ind, dim), left in rows_by_key.items():
            if ind != rel.left or rel.left_dim not in (None, dim):
                continue
            right = rows_by_key.get((rel.right, rel.right_dim or dim))
            if right is None:
                continue
            check = rel.check or rel.message.rstrip(".")
            if rel.left_dim is None:  # repeated per level: each line names its level
                check = f"{check} ({left.dim_label})"
            rules.append(RelationRule(left.n, right.n, rel.op, rel.severity, rel.message, check))
    for table in form.tables:
        rules.extend(SwingRule(r, spec.swing_threshold_pct) for r in table.rows)
        if table.warn_if_unchanged:
            rules.append(SameAsLastYearRule(table))
    return tuple(rules)
