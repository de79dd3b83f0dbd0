"""Generate the templates of a report year: one per province, or the blank generic form."""

from __future__ import annotations

import datetime as dt
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
                       | None = None, progress: Callable[[Iterable], Iterable] = lambda it: it) -> list[Path]:
    """Write one workbook per province into ``out_dir``; returns the paths in province order."""
    if not password.isascii() or not password:
        raise ValueError("mật khẩu bảo vệ phải là chữ ASCII, không dấu (LibreOffice không nhận mật khẩu có dấu)")
    stamp = dt.datetime.now(dt.UTC)
    paths = []
    for p in progress(provinces):
        opts = prefill(p) if prefill else TemplateOptions()
        opts = TemplateOptions(province=p, password=password, values=opts.values, locked=opts.locked,
                               notes=opts.notes, generated_at=opts.generated_at or stamp)
        paths.append(write_template(form, out_dir / template_filename(form, p), opts))
    return paths
