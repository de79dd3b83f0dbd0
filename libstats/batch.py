"""Check many files in long-lived worker processes with memory and time limits, then compare them.

A file that crashes its reader (a hostile file can abort a native library's whole process), runs out of
memory or hangs, gets an F09 finding and costs one worker, which is replaced; every other file is checked.
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

from .check import check_file
from .result import CheckResult
from .findings import Severity, make
from .form import build_form
from .spec import Spec, default_spec

__all__ = ["WorkerLimits", "check_many", "collect_files", "add_outliers"]


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


def _worker(conn, spec: Spec, year: int | None, limits: WorkerLimits) -> None:
    """A long-lived checker: takes (index, path, display) tasks, says when it starts each, sends each result."""
    faulthandler.disable()  # a crash is reported by the parent as a finding, not as a traceback on screen
    budget = _vm_bytes() + limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    while True:
        task = conn.recv()
        if task is None:
            return
        i, path, display = task
        conn.send(("start", i))
        try:
            conn.send(("done", i, check_file(path, spec, year, display)))
        except MemoryError:
            conn.send(("fail", i, "quá giới hạn bộ nhớ"))
            return  # a worker that ran out of memory is not reused
        except Exception as exc:  # noqa: BLE001 - the parent turns any failure into a finding
            conn.send(("fail", i, f"lỗi khi đọc: {type(exc).__name__}"))


def _failed(path: Path, display: str, detail: str) -> CheckResult:
    res = CheckResult(str(path), display)
    res.findings.append(make("F09", file=display, detail=detail))
    return res


class _Pool:
    """Workers that each check files one after another; a crash or a hang costs one file and one worker."""

    def __init__(self, spec: Spec, year: int | None, limits: WorkerLimits):
        self.ctx, self.spec, self.year, self.limits = mp.get_context("fork"), spec, year, limits
        self.workers: dict = {}  # parent connection → [process, current index or None, deadline]

    def spawn(self):
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_worker, args=(child, self.spec, self.year, self.limits), daemon=True)
        proc.start()
        child.close()
        self.workers[parent] = [proc, None, 0.0]
        return parent

    def retire(self, conn, kill: bool = False):
        proc = self.workers.pop(conn)[0]
        if kill:
            proc.kill()
        else:
            try:
                conn.send(None)
            except OSError:
                pass
        proc.join(5)
        if proc.is_alive():
            proc.kill()
        conn.close()


def check_many(files: Sequence[tuple[Path, str]], spec: Spec | None = None, year: int | None = None,
               limits: WorkerLimits = WorkerLimits(), progress: Callable[[Iterable], Iterable] = lambda it: it,
               isolate: bool = True) -> list[CheckResult]:
    """Check every file; results in the order of ``files``. ``isolate=False`` runs in this process."""
    spec = spec or default_spec()
    if year is not None:
        build_form(year, spec)  # lay out once before forking: workers inherit it
    if not isolate:
        return [check_file(p, spec, year, d) for p, d in progress(files)]
    results: dict[int, CheckResult] = {}
    pending = list(range(len(files)))[::-1]
    pool = _Pool(spec, year, limits)
    ticker = iter(progress(range(len(files))))
    for _ in range(min(limits.jobs, len(files))):
        pool.spawn()

    def give(conn):
        if pending:
            i = pending.pop()
            pool.workers[conn][1:] = [i, time.monotonic() + limits.seconds]
            conn.send((i, str(files[i][0]), files[i][1]))
        else:
            pool.workers[conn][1] = None

    def finish(i, result):
        results[i] = result
        next(ticker, None)

    try:
        for conn in list(pool.workers):
            give(conn)
        while len(results) < len(files):
            busy = {c: w for c, w in pool.workers.items() if w[1] is not None}
            sentinels = {w[0].sentinel: c for c, w in busy.items()}
            ready = set(wait([*busy, *sentinels], timeout=0.5))
            for conn, (proc, i, deadline) in busy.items():
                path, display = files[i]
                if conn in ready:
                    try:
                        msg = conn.recv()
                    except (EOFError, OSError):
                        msg = None
                    if msg and msg[0] == "start":
                        continue
                    if msg and msg[0] == "done":
                        finish(i, msg[2])
                        give(conn)
                        continue
                    detail = msg[2] if msg else f"trình đọc dừng bất thường (mã {proc.exitcode})"
                    finish(i, _failed(path, display, detail))
                    pool.retire(conn, kill=True)
                    give(pool.spawn())
                elif proc.sentinel in ready and not conn.poll():
                    proc.join(5)
                    finish(i, _failed(path, display, f"trình đọc dừng bất thường (mã {proc.exitcode})"))
                    pool.retire(conn, kill=True)
                    give(pool.spawn())
                elif time.monotonic() > deadline:
                    finish(i, _failed(path, display, f"quá {limits.seconds:g} giây"))
                    pool.retire(conn, kill=True)
                    give(pool.spawn())
    finally:
        for conn in list(pool.workers):
            pool.retire(conn)
    next(ticker, None)
    return [results[i] for i in range(len(files))]


def _ratio(res: CheckResult, num: str, den: str, dim: str) -> float | None:
    a, b = res.values.get(f"{num}_{dim}_n"), res.values.get(f"{den}_{dim}_n")
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0:
        return a / b
    return None


def add_outliers(results: list[CheckResult], spec: Spec | None = None, threshold: float = 3.5,
                 minimum: int = 8) -> None:
    """Warn (B02) where a province's ratio (the spec's ``ratios``) is far from the others' (robust z on the
    median); needs at least ``minimum`` provinces."""
    usable = [r for r in results if r.province is not None and r.errors == 0]
    for ratio in (spec or default_spec()).ratios:
        num, den, dim, label = ratio.numerator, ratio.denominator, ratio.dim, ratio.label
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
