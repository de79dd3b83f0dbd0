"""Write a full set of sample returns for a year, optionally with the documented flaws (samples.FLAWS)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from pathlib import Path

from .form import Form
from .provinces import Province, provinces_for_year
from .samples import FLAWS, Flaw, sample_values
from .template import DEFAULT_PASSWORD, TemplateOptions, template_filename, write_template

__all__ = ["write_samples"]

_SAVED = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC)


def _saved(form: Form, days: int = 0) -> dt.datetime:
    return _SAVED.replace(year=form.year) + dt.timedelta(days=330 + days)


def _flawed_values(flaw: Flaw, form: Form, values: dict) -> dict:
    v = dict(values)
    if flaw.id == "text-numbers":
        v["luot_tl_tinh_n"] = f"{values['luot_tl_tinh_n']:,}".replace(",", ".")
        v["so_xe_o_to_p"] = "1,234"
    elif flaw.id == "missing-section":
        for f in form.fields.values():  # the narratives and the year-N figures of section 2.3
            if f.section == "2.3" and f.kind in ("narrative", "number") and f.column in (None, "n"):
                v.pop(f.id, None)
    elif flaw.id == "swing":
        v["luot_tl_tinh_n"] = values["luot_tl_tinh_n"] * 3
        v["luot_tl_tong_n"] = values["luot_tl_tong_n"] + 2 * values["luot_tl_tinh_n"]
        v.pop("luot_tl_tinh_gc", None)
    return v


def write_samples(form: Form, out_dir: Path, seed: int = 2024, flaws: bool = False,
                  password: str = DEFAULT_PASSWORD,
                  progress: Callable[[Iterable], Iterable] = lambda it: it) -> list[Path]:
    """A filled return for every province of ``form``'s year (and the flawed ones with ``flaws``)."""
    provinces = list(provinces_for_year(form.year))
    by_position = {f.position: f for f in FLAWS} if flaws else {}
    silent = {f.position + 1 for f in by_position.values() if f.id == "wrong-province"}  # its file was misnamed
    paths = []
    for i, p in enumerate(progress(provinces)):
        if i in silent:
            continue
        values = sample_values(form, p, seed)
        flaw = by_position.get(i)
        paths += _write_one(form, out_dir, p, values, flaw, provinces, password)
    return paths


def _write_one(form: Form, out: Path, p: Province, values: dict, flaw: Flaw | None, provinces: list[Province],
               password: str) -> list[Path]:
    def write(name: str, vals: dict, days: int = 0, **opts) -> Path:
        return write_template(form, out / name, TemplateOptions(province=p, values=vals, password=password,
                                                                generated_at=_saved(form, days), **opts))

    name = template_filename(form, p)
    if flaw is None or flaw.id in ("text-numbers", "missing-section", "swing"):
        return [write(name, _flawed_values(flaw, form, values) if flaw else values)]
    if flaw.id == "old-template":
        return [write(name, values, spec_version="2023.1")]
    if flaw.id == "resubmission":
        wrong = dict(values, the_cap_moi_tong_n=values["the_cap_moi_tong_n"] + 250)
        first = write(name.replace(".xlsx", "_lan-1.xlsx"), wrong, days=-5)
        return [first, write(name, values)]
    if flaw.id == "wrong-province":
        after = provinces[provinces.index(p) + 1]
        return [write(template_filename(form, after), values)]
    if flaw.id == "corrupt":
        path = write(name, values)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return [path]
    raise ValueError(f"unknown flaw {flaw.id}")
