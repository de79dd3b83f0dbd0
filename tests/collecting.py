"""Shared makers for the collection tests: a pristine collection folder copied per test, returns with mistakes."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from libstats.collection.collect import init_collection, issue_links, open_collection

from . import corpus as c

YEAR = c.YEAR
DEADLINE = dt.date(2025, 3, 15)
S22 = "2.2 Số liệu"


def collection(tmp_path: Path, factory) -> tuple:
    """A fresh copy of a collection folder (forms written once per test run) and its links by code."""
    from .conftest import built_once

    pristine = built_once(factory, "pristine-collection", lambda out: init_collection(out / "col", YEAR, DEADLINE))
    root = tmp_path / "col"
    shutil.copytree(pristine / "col", root)
    col = open_collection(root)
    links = {code: link for code, _, link in issue_links(col)}
    return col, links


def with_mistakes(path: Path) -> Path:
    """A Hà Nội return with a negative figure and a total that is not the sum (two errors at their cells)."""
    return c.with_values(path, bo_sung_xa_n=-5, the_cap_moi_tong_n=1)


def corrected_with_warning(path: Path, tmp: Path) -> Path:
    """The corrected return, whose sheet protection was removed (a warning the Ministry reviews)."""
    return c.unprotect(c.filled(tmp / "ok-src.xlsx"), path, S22)


def cell(fid: str) -> str:
    return c.FORM.fields[fid].cell


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html)[1]
