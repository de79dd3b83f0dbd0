"""Helpers for tests that share workbooks: a folder built once per run across pytest-xdist workers, one sheet of a
large workbook read alone, and the seed and save time of the session's sample returns. Not a test file."""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

RETURNS_SEED = 11
RETURNS_SAVED = dt.datetime(2024, 12, 1, 8, 0, tzinfo=dt.UTC)


def sheet_rows(path: Path, sheet: str, cells: bool = False) -> list[tuple]:
    """The rows of one sheet of a (large) workbook, as values (or read-only cells), without loading the others:
    a summary of every province takes seconds to load whole."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        return list(wb[sheet].iter_rows(values_only=not cells))
    finally:
        wb.close()


def cached_rows(path: Path, sheet: str) -> list[tuple]:
    """A sheet's values as a spreadsheet program shows them (formula cells: their stored results)."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return list(wb[sheet].iter_rows(values_only=True))
    finally:
        wb.close()


def built_once(factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """A folder that ``build`` fills once per test run, shared by the pytest-xdist workers (the first to ask
    builds it, the other waits for it). What is in it must never be modified: copy it."""
    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # the run's folder, above each worker's own
    folder = base / name
    with (base / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not (base / f"{name}.done").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (base / f"{name}.done").touch()
    return folder
