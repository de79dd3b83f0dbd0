"""The spec is strict: unknown keys are refused with their path and the closest known key; Excel's limits hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from libstats.model.form import build_form
from libstats.model.rules import build_rules
from libstats.model.spec import EXCEL_LIMITS, SpecError, default_spec, load_spec

SPEC = Path(default_spec().source)


def _spec_with(tmp_path: Path, old: str, new: str) -> Path:
    text = SPEC.read_text(encoding="utf-8")
    assert text.count(old) >= 1
    path = tmp_path / "spec.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_misspelt_key_is_refused_with_its_path_and_the_suggestion(tmp_path):
    path = _spec_with(tmp_path, "\nwarn_if_unchanged = true", "\nwarn_if_unchaged = true")
    with pytest.raises(SpecError) as exc:
        load_spec(path)
    assert str(exc.value).startswith(
        "sheets[4].items[2].warn_if_unchaged: unknown key; did you mean 'warn_if_unchanged'?")


@pytest.mark.parametrize("old,new,message", [
    ('year = "error"', 'yaer = "error"', "form.when_empty.yaer: unknown key; did you mean 'year'?"),
    ("[form.when_empty]", "[form.when_empty]\nnarative = \"none\"",
     "form.when_empty.narative: unknown key; did you mean 'narrative'?"),
    ("short_title =", "shorttitle =", "form.shorttitle: unknown key; did you mean 'short_title'?"),
    ("{ from = 2025,", "{ form = 2025,", "sheets[2].items[8].variants[0].form: unknown key; did you mean 'from'?"),
    ('{ indicator = "tl_so", by = "level" }', '{ indicator = "tl_so", bi = "level" }',
     "sheets[4].items[2].rows[11].bi: unknown key; did you mean 'by'?"),
    ("[[indicators]]\n", "[[indicators]]\nunits = \"cuốn\"\n",
     "indicators[0].units: unknown key; did you mean 'unit'?"),
    ("[[sheets]]\n", "[[sheets]]\ncolour = \"red\"\n", "sheets[0].colour: unknown key; known keys: id, items, kind"),
    ("[form]", "[colophon]\nx = 1\n\n[form]", "colophon: unknown key; known keys: form, headlines"),
])
def test_unknown_keys_anywhere_name_the_path(tmp_path, old, new, message):
    with pytest.raises(SpecError) as exc:
        load_spec(_spec_with(tmp_path, old, new))
    assert str(exc.value).startswith(message)


def test_a_table_where_an_array_of_tables_belongs_is_refused(tmp_path):
    path = tmp_path / "spec.toml"
    text = SPEC.read_text(encoding="utf-8")
    path.write_text(text.replace("[[levels]]", "[[levels_x]]", 1).replace("[total]", "levels = 3\n\n[total]", 1),
                    encoding="utf-8")
    with pytest.raises(SpecError, match="levels_x: unknown key; did you mean 'levels'"):
        load_spec(path)


@pytest.mark.parametrize("year", range(2023, 2031))
def test_every_check_sheet_formula_fits_excels_formula_limit(year):
    rules = build_rules(build_form(year))
    lengths = {r.describe(): len(r.formula()) for r in rules}
    assert len(rules) > 50
    too_long = {k: n for k, n in lengths.items() if n > EXCEL_LIMITS["formula_chars"]}
    assert not too_long, too_long
