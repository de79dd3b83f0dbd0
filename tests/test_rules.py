"""Each rule's two faces agree: the status the check sheet shows and the findings the validator gives."""

from __future__ import annotations

import pytest

from libstats.model.form import build_form
from libstats.model.provinces import province
from libstats.model.rules import NA, OK, Context, SumRule, build_rules
from libstats.forms.samples import sample_values


def _value_sets(form) -> list[dict]:
    p = province(form.year, "01")
    good = {**sample_values(form, p, seed=5), "bia_tinh": p.name}
    rows = {(r.indicator, r.dim): r for r in form.rows}
    broken_total = dict(good, **{rows[("the_cap_moi", "tong")].n.id: 1})
    swing = dict(good, **{rows[("luot_tl", "tinh")].n.id: good[rows[("luot_tl", "tinh")].p.id] * 5})
    empty = {k: v for k, v in good.items() if not k.startswith(("n1", "the_cap_moi"))}
    copied = dict(good, **{r.n.id: good[r.p.id] for r in form.rows})
    relation = dict(good, **{rows[("so_tv_moi", "tu_nhan")].n.id: 10**6})
    return [good, broken_total, swing, empty, copied, relation, {}]


@pytest.mark.parametrize("year", [2024, 2025])
def test_status_and_findings_agree_for_every_rule(year):
    form = build_form(year)
    rules = build_rules(form)
    seen = set()
    for values in _value_sets(form):
        for rule in rules:
            status = rule.status(values)
            found = list(rule.findings(Context(form, values)))
            assert (status in (OK, NA)) == (not found), (rule.describe(), status, [f.code for f in found])
            if found:
                seen.add(type(rule).__name__)
                assert status.startswith("Lỗi" if found[0].severity == "error" else "Cảnh báo"), rule.describe()
    assert seen == {type(r).__name__ for r in rules}  # every kind of rule was made to speak


@pytest.mark.parametrize("year", [2024, 2025])
def test_relation_between_named_rows_is_a_rule_on_the_check_sheet_and_in_python(year):
    """Cars' visits (Bảng 3, o_to) ≤ outreach visits of all levels (Bảng 2, tong): one rule between the two
    rows the spec names, its line the spec's condition; status and findings agree."""
    form = build_form(year)
    rel = next(r for r in form.spec.relations if r.left_dim)
    rows = {(r.indicator, r.dim): r for r in form.rows}
    left, right = rows[(rel.left, rel.left_dim)], rows[(rel.right, rel.right_dim)]
    rules = [r for r in build_rules(form) if getattr(r, "left", None) == left.n]
    assert len(rules) == 1 and rules[0].right == right.n and rules[0].describe() == rel.check
    assert left.n.id in rules[0].formula() and right.n.id in rules[0].formula()
    rule = rules[0]
    values = {left.n.id: 500, right.n.id: 400}
    found = list(rule.findings(Context(form, values)))
    assert rule.status(values).startswith("Cảnh báo") and [f.code for f in found] == ["R03"]
    assert found[0].cell == left.n.cell and "400" in found[0].message
    values = {left.n.id: 300, right.n.id: 400}
    assert rule.status(values) == OK and not list(rule.findings(Context(form, values)))


def test_a_relation_repeated_per_level_names_the_level_on_each_line():
    form = build_form(2025)
    lines = [r.describe() for r in build_rules(form) if type(r).__name__ == "RelationRule"]
    assert len(lines) == len(set(lines))  # no two lines alike: each says its level
    assert any(line.endswith("(Cấp xã)") for line in lines)


def test_levels_on_rows_apart_are_one_reference_each_and_their_x_counts_add_up():
    """A sum over levels that are not adjacent rows (no such table today): one range a run of rows, the "x"
    counts of the runs added before they are joined into the message."""
    form = build_form(2024)
    rule = next(r for r in build_rules(form) if isinstance(r, SumRule) and len(r.parts) == 3)
    apart = SumRule(rule.total, (rule.parts[0], rule.parts[2]))
    formula = apart.formula()
    first, last = rule.parts[0], rule.parts[2]
    assert f"SUM({first.id},{last.id})" in formula
    assert f'(0+COUNTIF({first.id},"x")+COUNTIF({last.id},"x"))' in formula
    adjacent = SumRule(rule.total, rule.parts).formula()
    assert f"SUM('{first.sheet}'!{first.cell}:{last.cell})" in adjacent and "(0+COUNTIF" not in adjacent
