"""Check many files, each in a worker process with memory and time limits, then compare them with each other.

A file that crashes its reader (a hostile file can abort a native library's whole process), runs out of
memory or hangs, gets an F09 finding; every other file is still checked.
"""

from __future__ import annotations

import faulthandler
import multiprocessing as mp
import os
import resource
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path

from .check import CheckResult, check_file
from .findings import Severity, make
from .form import build_form
from .spec import Spec, default_spec

__all__ = ["WorkerLimits", "check_many", "collect_files", "add_outliers", "RATIOS"]

_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xml", ".csv", ".htm", ".html", ".pdf", ".zip", ""}
# Per-library ratios compared across provinces (numerator, denominator, dimension); spec indicators.
RATIOS = (("luot_tai_tv", "so_thu_vien", "tong", "lượt phục vụ tại thư viện trên mỗi thư viện"),
          ("luot_tl", "luot_tai_tv", "tong", "lượt tài liệu trên mỗi lượt phục vụ"),
          ("the_cap_moi", "so_thu_vien", "tong", "thẻ cấp mới trên mỗi thư viện"))


@dataclass(frozen=True)
class WorkerLimits:
    seconds: float = 120.0  # wall-clock per file
    memory_mb: int = 1024  # extra address space a worker may take
    jobs: int = max(1, os.cpu_count() or 1)


def collect_files(inputs: Sequence[Path]) -> list[tuple[Path, str]]:
    """(path, display name) of every file under the inputs, sorted; hidden and temporary files skipped."""
    found = []
    for item in inputs:
        if item.is_dir():
            for p in sorted(item.rglob("*")):
                rel = p.relative_to(item)
                if p.is_file() and not any(part.startswith((".", "~$")) for part in rel.parts):
                    found.append((p, str(rel)))
        else:
            found.append((item, item.name))
    return found


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _child(conn, path: str, display: str, spec: Spec, year: int | None, limits: WorkerLimits) -> None:
    faulthandler.disable()  # a crash is reported by the parent as a finding, not as a traceback on screen
    try:
        budget = _vm_bytes() + limits.memory_mb * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
        cpu = int(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        conn.send(check_file(path, spec, year, display))
    except MemoryError:
        conn.send(("F09", "quá giới hạn bộ nhớ"))
    except BaseException as exc:  # noqa: BLE001 - the parent turns any failure into a finding
        conn.send(("F09", f"lỗi khi đọc: {type(exc).__name__}"))
    finally:
        conn.close()


def _failed(path: Path, display: str, detail: str) -> CheckResult:
    res = CheckResult(str(path), display)
    res.findings.append(make("F09", file=display, detail=detail))
    return res


def check_many(files: Sequence[tuple[Path, str]], spec: Spec | None = None, year: int | None = None,
               limits: WorkerLimits = WorkerLimits(), progress: Callable[[Iterable], Iterable] = lambda it: it,
               isolate: bool = True) -> list[CheckResult]:
    """Check every file; results in the order of ``files``. ``isolate=False`` runs in this process."""
    spec = spec or default_spec()
    if year is not None:
        build_form(year, spec)  # lay out once before forking: workers inherit it
    if not isolate:
        return [check_file(p, spec, year, d) for p, d in progress(files)]
    ctx = mp.get_context("fork")
    results: dict[int, CheckResult] = {}
    pending = list(enumerate(files))[::-1]
    running: dict = {}  # reader connection → (index, process, deadline)
    ticker = iter(progress(range(len(files))))
    while pending or running:
        while pending and len(running) < limits.jobs:
            i, (path, display) = pending.pop()
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(send, str(path), display, spec, year, limits), daemon=True)
            proc.start()
            send.close()
            running[recv] = (i, proc, time.monotonic() + limits.seconds)
        ready = wait(list(running), timeout=0.5)
        now = time.monotonic()
        for conn in list(running):
            i, proc, deadline = running[conn]
            path, display = files[i]
            if conn in ready:
                try:
                    got = conn.recv()
                except (EOFError, OSError):
                    proc.join(5)
                    got = _failed(path, display, f"trình đọc dừng bất thường (mã {proc.exitcode})")
                if isinstance(got, tuple):
                    got = _failed(path, display, got[1])
            elif now > deadline:
                proc.kill()
                got = _failed(path, display, f"quá {limits.seconds:g} giây")
            else:
                continue
            results[i] = got
            conn.close()
            proc.join(5)
            del running[conn]
            next(ticker, None)
    next(ticker, None)
    return [results[i] for i in range(len(files))]


def _ratio(res: CheckResult, num: str, den: str, dim: str) -> float | None:
    a, b = res.values.get(f"{num}_{dim}_n"), res.values.get(f"{den}_{dim}_n")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        return a / b
    return None


def add_outliers(results: list[CheckResult], threshold: float = 3.5, minimum: int = 8) -> None:
    """Warn (B02) where a province's per-library ratio is far from the others' (robust z on the median)."""
    usable = [r for r in results if r.province is not None and r.errors == 0]
    for num, den, dim, label in RATIOS:
        pairs = [(r, x) for r in usable if (x := _ratio(r, num, den, dim)) is not None]
        if len(pairs) < minimum:
            continue
        xs = [x for _, x in pairs]
        med = statistics.median(xs)
        mad = statistics.median(abs(x - med) for x in xs)
        if mad == 0:
            continue
        for res, x in pairs:
            z = 0.6745 * (x - med) / mad
            if abs(z) > threshold:
                sheet, cell = res.sources.get(f"{num}_{dim}_n", ("", ""))
                res.findings.append(make("B02", severity=Severity.WARNING, file=res.display, sheet=sheet, cell=cell,
                                         field=f"{num}_{dim}_n", label=label,
                                         detail=f"{x:,.1f} so với trung vị {med:,.1f}; z = {z:+.1f}"))
