"""Files no spreadsheet program shows as libstats would read them: refused for the true reason, or read as the
program reads them (issue 19, items 9-11). The hostile corpus (tests/hostile.py) holds one file of each."""

from __future__ import annotations

import io
import zipfile

import pytest

from libstats.intake.xlsx import Limits, XlsxError, open_xlsx, read_cells

from . import corpus as c


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> bytes:
    return c.filled(tmp_path_factory.mktemp("faults") / "ok.xlsx").read_bytes()


def _recompress(data: bytes, part: str, method: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info), method if info.filename == part else zipfile.ZIP_DEFLATED)
    return out.getvalue()


@pytest.mark.parametrize("part", ["xl/workbook.xml", "xl/sharedStrings.xml", "xl/styles.xml"])
@pytest.mark.parametrize("method, shown", [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")])
def test_a_part_compressed_otherwise_than_stored_or_deflated_refuses_the_file_naming_it(good, part, method, shown):
    with pytest.raises(XlsxError) as err:
        open_xlsx(_recompress(good, part, method))
    assert err.value.code == "F03" and part in err.value.detail and shown in err.value.detail
    stored = _recompress(good, part, zipfile.ZIP_STORED)  # the two methods Excel and LibreOffice open
    assert open_xlsx(stored).names == open_xlsx(good).names


def _with_names_comment(data: bytes, count: int) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info)
            if info.filename == "xl/workbook.xml":
                body = body.replace(b"</definedNames>", b"<!-- " + b"<definedName>" * count + b" --></definedNames>")
            zout.writestr(info.filename, body)
    return out.getvalue()


def test_the_names_cap_counts_the_names_a_spreadsheet_reads_not_a_comment(good):
    real = len(open_xlsx(good).names)
    assert real > 300
    commented = _with_names_comment(good, 60_000)
    for fast in (True, False):
        assert open_xlsx(commented, fast=fast).names == open_xlsx(good).names
        limits = Limits(max_names=real + 100)  # the cap (global and local names) still holds for the real ones
        assert open_xlsx(commented, limits, fast=fast).names
        with pytest.raises(XlsxError) as err:
            open_xlsx(commented, Limits(max_names=real - 1), fast=fast)
        assert err.value.code == "F06"


def test_an_error_value_is_read_as_an_error_in_every_cell_type(tmp_path):
    for fid in ("n1_danh_gia_chung", "bia_co_quan", "the_cap_moi_tong_n"):
        f = c.FORM.fields[fid]
        path = c.put_cell_xml(c.filled(tmp_path / f"{fid}0.xlsx"), tmp_path / f"{fid}.xlsx", f.sheet, f.cell,
                              f'<c r="{f.cell}" t="e"><v>#N/A</v></c>')
        for fast in (True, False):
            cell = read_cells(open_xlsx(path.read_bytes(), fast=fast), {f.sheet: {f.cell}})[(f.sheet, f.cell)]
            assert (cell.value, cell.error) == (None, "#N/A")


def test_the_cells_cap_refuses_alike_in_both_paths_over_several_sheets(good):
    wanted = {s.name: {"A1"} for s in open_xlsx(good).sheets}
    outcomes = {}
    for cap in (10, 500, 100_000):  # injected: at 500 the first sheets fit and a later one does not
        seen = []
        for fast in (True, False):
            try:
                read_cells(open_xlsx(good, Limits(max_cells=cap), fast=fast), wanted)
                seen.append("read")
            except XlsxError as exc:
                seen.append(exc.code)
        outcomes[cap] = seen
    assert outcomes == {10: ["F06", "F06"], 500: ["F06", "F06"], 100_000: ["read", "read"]}
