"""The rule that picks a province's file among several."""

from libstats.checks.result import CheckResult
from libstats.consolidation.ledger import build_ledger
from libstats.model.provinces import province


def _res(name: str, saved: str, mtime: float = 0.0, value: int = 1, code: str = "01") -> CheckResult:
    r = CheckResult(name, name, saved=saved, mtime=mtime, year=2024, province=province(2024, code), sha256=name)
    r.values = {"the_cap_moi_tinh_n": value}
    r.sources = {"the_cap_moi_tinh_n": ("2.2 Số liệu", "E15")}
    return r


def test_the_file_saved_last_wins_whatever_the_time_zone_notation():
    a = _res("a.xlsx", "2024-12-01T09:00:00Z", value=1)  # 09:00 UTC
    b = _res("b.xlsx", "2024-12-01T15:30:00+07:00", value=2)  # 08:30 UTC: earlier, though it sorts later as text
    ledger = build_ledger([a, b], 2024)
    assert [e.fate for e in ledger] == ["accepted", "superseded"]
    assert ledger[1].reason == "a.xlsx" and ledger[1].differences == [("the_cap_moi_tinh_n", 2, 1)]
    assert [f.code for f in ledger[1].findings] == ["L01", "L02"] and ledger[1].findings[1].cell == "E15"
    assert b.findings == []  # the file's own result is never changed by the batch


def test_a_superseded_file_names_the_cell_it_differs_in_by_its_label_and_the_numbers_the_vietnamese_way():
    a = _res("a.xlsx", "2024-12-02T08:00:00Z", value=8220)
    b = _res("b.xlsx", "2024-12-01T08:00:00Z", value=8470)
    label = "Số thẻ thư viện cấp mới trong năm (Cấp tỉnh) — năm 2024"
    [l02] = [f for f in build_ledger([a, b], 2024, {"the_cap_moi_tinh_n": label})[1].findings if f.code == "L02"]
    assert l02.message == f"Tệp thay thế khác tệp trước ở ô '{label}': 8.470 → 8.220."
    assert "the_cap_moi_tinh_n" not in l02.message


def test_file_time_then_name_break_ties_and_provinces_are_never_merged():
    a = _res("a.xlsx", "", mtime=2.0)
    b = _res("b.xlsx", "", mtime=1.0)
    c = _res("c.xlsx", "", mtime=1.0, code="35")
    ledger = build_ledger([a, b, c], 2024)
    assert [e.fate for e in ledger] == ["accepted", "superseded", "accepted"]
