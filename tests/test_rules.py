"""Each rule's two faces agree: the status the check sheet shows and the findings the validator gives."""

from __future__ import annotations

import pytest

from libstats.form import build_form
from libstats.provinces import province
from libstats.rules import NA, OK, Context, build_rules
from libstats.samples import sample_values


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
