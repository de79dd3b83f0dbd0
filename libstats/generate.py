"""Generate the templates of a report year: one per province, or the blank generic form."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
from pathlib import Path
from collections.abc import Callable, Iterable

from .form import Form
from .provinces import Province, province, provinces_for_year
from .template import DEFAULT_PASSWORD, TemplateOptions, template_filename, write_template

__all__ = ["select_provinces", "generate_templates"]


def select_provinces(year: int, codes: Iterable[str], all_provinces: bool) -> list[Province | None]:
    """The provinces asked for; [None] (the generic form) when none is. ValueError names an unknown code."""
    if all_provinces:
        return list(provinces_for_year(year))
    chosen = [province(year, c) for c in codes]
    return chosen or [None]


def generate_templates(form: Form, provinces: list[Province | None], out_dir: Path, *,
                       password: str = DEFAULT_PASSWORD, prefill: Callable[[Province | None], TemplateOptions]
                       | None = None, progress: Callable[[Iterable], Iterable] = lambda it: it,
                       jobs: int = os.cpu_count() or 1) -> list[Path]:
    """Write one workbook per province into ``out_dir``; returns the paths in province order.
    With many provinces the work is shared by ``jobs`` forked processes."""
    if not password.isascii() or not password:
        raise ValueError("mật khẩu bảo vệ phải là chữ ASCII, không dấu (LibreOffice không nhận mật khẩu có dấu)")
    global _JOB
    _JOB = (form, out_dir, password, prefill, dt.datetime.now(dt.UTC))
    if jobs <= 1 or len(provinces) < 8:
        return [_make(p) for p in progress(provinces)]
    with mp.get_context("fork").Pool(jobs) as pool:  # workers inherit the job; order is kept
        made = pool.imap(_make, provinces)
        return [next(made) for _ in progress(provinces)]


_JOB: tuple = ()


def _make(p: Province | None) -> Path:
    form, out_dir, password, prefill, stamp = _JOB
    opts = prefill(p) if prefill else TemplateOptions()
    opts = TemplateOptions(province=p, password=password, values=opts.values, locked=opts.locked,
                           notes=opts.notes, generated_at=opts.generated_at or stamp)
    return write_template(form, out_dir / template_filename(form, p), opts)
