"""The whole cycle on built-in data: templates, sample returns (some flawed), checks, feedback, summary, and the
national report drafted from the dataset."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from libstats.consolidation.consolidate import Consolidation, consolidate
from libstats.forms.samples import write_samples
from libstats.forms.template import write_templates
from libstats.model.form import build_form
from libstats.model.provinces import provinces_for_year
from libstats.outputs.publish import publish
from libstats.outputs.report import ReportResult, build_report

__all__ = ["DemoResult", "run_demo"]


@dataclass(frozen=True)
class DemoResult:
    templates: Path
    inbox: Path
    feedback: Path
    summary: Path
    dataset: Path
    report: Path
    consolidation: Consolidation
    drafted: ReportResult  # what drafting the report found (its excerpts, who reported): the report is drafted once


def run_demo(out: Path, year: int = 2024, seed: int = 2024, say: Callable[[str], None] = print,
             progress: Callable[[str], Callable[[Iterable], Iterable]] = lambda label: (lambda it: it)) -> DemoResult:
    form = build_form(year)
    templates, inbox, feedback = out / "mau-bieu", out / "hop-thu", out / "phan-hoi"
    say(f"1/5 Tạo mẫu báo cáo năm {year} cho {len(provinces_for_year(year))} tỉnh → {templates}")
    write_templates(form, list(provinces_for_year(year)), templates, progress=progress("Mẫu"), overwrite=True)
    say(f"2/5 Tạo báo cáo mẫu đã điền (có một số lỗi cố ý) → {inbox}")
    write_samples(form, inbox, seed=seed, flaws=True, progress=progress("Báo cáo mẫu"), overwrite=True)
    say("3/5 Kiểm tra và tổng hợp")
    con = consolidate([inbox], year, progress=progress("Kiểm tra"))
    say(f"4/5 Ghi bảng tổng hợp, bộ dữ liệu và tệp phản hồi cho các tỉnh → {feedback}")
    done = publish(con, out / f"tong-hop-{year}.xlsx", feedback=feedback, progress=progress("Phản hồi"))
    report = out / f"bao-cao-tong-ket-{year}.docx"
    say(f"5/5 Dự thảo báo cáo tổng kết toàn quốc từ bộ dữ liệu → {report}")
    drafted = build_report(done.dataset, report)
    return DemoResult(templates, inbox, feedback, done.summary, done.dataset, report, con, drafted)
