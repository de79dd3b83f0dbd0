"""Returns filled in LibreOffice consolidate to the right national figures."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from libstats.cli import main
from libstats.model.form import build_form
from libstats.model.provinces import province
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, template_filename, write_template

from .conftest import sheet_rows

pytestmark = pytest.mark.libreoffice
FORM = build_form(2024)


def _typed(values: dict) -> dict:
    """What a person types: numbers and text (the date as text, as typed into the cell)."""
    out = {k: v for k, v in values.items() if not isinstance(v, dt.date)}
    out["bia_ngay"] = values["bia_ngay"].strftime("%d/%m/%Y")
    return out


def test_mixed_inbox_consolidates_exactly_and_the_summary_renders(lo, tmp_path):
    inbox = tmp_path / "inbox"
    values = {}
    for i, code in enumerate(["01", "31", "79", "92"]):
        p = province(2024, code)
        values[code] = sample_values(FORM, p, seed=5)
        target = inbox / template_filename(FORM, p)
        if i % 2:  # filled by a person in LibreOffice
            blank = write_template(FORM, tmp_path / f"blank-{code}.xlsx", TemplateOptions(province=p))
            inbox.mkdir(exist_ok=True)
            lo.fill(blank, target, _typed(values[code]))
        else:
            write_template(FORM, target, TemplateOptions(province=p, values=values[code]))
    out = tmp_path / "tong-hop.xlsx"
    result = CliRunner().invoke(main, ["consolidate", str(inbox), "--year", "2024", "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    national = next(r for r in sheet_rows(out, "Tỉnh - Lượt phục vụ")[3:] if r[1] == FORM.spec.national_label)
    expected = sum(v["luot_tai_tv_tong_n"] + v["luot_ngoai_tv_tong_n"] for v in values.values())
    assert national[3] == expected and national[2] == "4/63 tỉnh"
    # the summary printed through LibreOffice: tests/test_report.py (every word of a 10,000-character narrative)
