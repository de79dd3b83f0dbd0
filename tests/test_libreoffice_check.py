"""Returns filled and saved by LibreOffice, and converted to .xls and .ods, check with the right values."""

from __future__ import annotations

import pytest

from libstats.checks.check import check_file
from libstats.model.findings import Verdict

from . import corpus as c
from .libreoffice import typed_values

pytestmark = pytest.mark.libreoffice


_lo_values = typed_values  # (its old name, still imported by test_libreoffice_consolidate.py)


@pytest.fixture(scope="module")
def lo_filled(tmp_path_factory, lo):
    tmp = tmp_path_factory.mktemp("lofill")
    template = c.filled(tmp / "template.xlsx", values={})
    values = c.good_values()
    out = tmp / "bao-cao-thu-vien-2024_01_ha-noi.xlsx"
    lo.fill(template, out, typed_values(values))
    return out, values


def test_a_return_filled_in_libreoffice_checks_clean_with_the_right_values(lo_filled):
    path, values = lo_filled
    res = check_file(path, year=2024)
    assert res.verdict == Verdict.ACCEPTED, [(f.code, f.cell, f.message) for f in res.findings]
    for fid, v in values.items():
        assert res.values[fid] == v, fid


@pytest.mark.parametrize("fmt", ["xls", "ods"])
def test_xls_and_ods_are_converted_and_read(lo, lo_filled, tmp_path, fmt):
    path, values = lo_filled
    other = lo.convert(path, fmt, tmp_path)
    res = check_file(other, year=2024)
    assert "F08" in [f.code for f in res.findings]
    assert res.verdict != Verdict.REJECTED, [(f.code, f.message) for f in res.findings]
    for fid in ("the_cap_moi_tinh_n", "luot_tl_tong_p", "n222_tv_so", "bia_email"):
        assert res.values[fid] == values[fid]
