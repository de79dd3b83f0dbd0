"""Every hostile case gets its fate: lying files never consolidate what the officer does not see, costly files
are refused or read. Times and memory per case: benchmarks/bench_hostile.py."""

from __future__ import annotations

import os
import time

import pytest

from libstats.checks.check import check_file
from libstats.model.findings import Verdict

from .hostile import CASES, FIELD


@pytest.mark.parametrize("name, kind, maker, fate", CASES, ids=[c[0] for c in CASES])
def test_each_hostile_file_gets_its_fate(tmp_path, name, kind, maker, fate):
    path = maker(tmp_path)
    before = path.read_bytes()
    res = check_file(path, year=2024)
    codes = {f.code for f in res.findings}
    assert res.verdict == fate.verdict, [(f.code, f.message) for f in res.findings]
    assert set(fate.codes) <= codes, codes
    if fate.value is not None:
        assert res.values.get(FIELD.id) == fate.value
    if fate.check is not None:
        assert fate.check(res)
    assert path.read_bytes() == before  # inputs are never modified


def test_a_hidden_copy_is_located_and_never_read(tmp_path):
    path = CASES[0][2](tmp_path)
    res = check_file(path, year=2024)
    s11 = [f for f in res.findings if f.code == "S11"]
    assert len(s11) == 1  # once per hidden sheet, located at the first field's visible cell
    assert (s11[0].sheet, s11[0].cell) == (FIELD.sheet, s11[0].cell) and s11[0].field
    assert "trang ẩn '2.2 Số liệu (2)'" in s11[0].message
    assert FIELD.id not in res.values  # the hidden figure is not taken


def test_a_province_in_the_properties_never_moves_the_return(tmp_path):
    path = CASES[2][2](tmp_path)
    res = check_file(path, year=2024)
    i10 = next(f for f in res.findings if f.code == "I10")
    assert "Hồ Chí Minh" in i10.message and "Hà Nội" in i10.message and i10.cell == "B9"
    assert res.province is None or res.province.code == "01"  # never Hồ Chí Minh's


def test_a_zip_of_returns_says_what_it_holds(tmp_path):
    path = next(c for c in CASES if c[0] == "zip-of-three-returns")[2](tmp_path)
    res = check_file(path, year=2024)
    (f01,) = [f for f in res.findings if f.code == "F01"]
    assert "tệp nén chứa 3 bảng tính: Hà Nội.xlsx, Hải Phòng.xlsx, Huế.xlsx; hãy gửi từng tệp riêng" in f01.message


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting(tmp_path):
    fifo = tmp_path / "bao-cao.xlsx"
    os.mkfifo(fifo)
    start = time.perf_counter()
    res = check_file(fifo, year=2024)
    assert time.perf_counter() - start < 5
    assert res.verdict == Verdict.REJECTED and [f.code for f in res.findings] == ["F01"]
