"""Check many files in long-lived worker processes with memory and time limits, then compare them.

A file that crashes its reader (a hostile file can abort a native library's whole process), runs out of
memory or hangs, gets an F09 finding and costs one worker, which is replaced; every other file is checked.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import faulthandler
import multiprocessing as mp
import os
import resource
import signal
import stat
import statistics
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import wait
from pathlib import Path
from typing import NamedTuple

from libstats.checks.check import check_file, prepare
from libstats.model.findings import Finding, Severity, make, outlier_detail
from libstats.model.form import Field, Form
from libstats.checks.result import CheckResult
from libstats.model.spec import Spec, default_spec

__all__ = ["WorkerLimits", "InboxFile", "WorkerPool", "check_many", "collect_files", "outlier_findings",
           "outlier_fields", "run_isolated"]


@dataclass(frozen=True)
class WorkerLimits:
    seconds: float = 120.0  # wall-clock per file
    memory_mb: int = 1024  # extra address space a worker may take
    jobs: int = max(1, os.cpu_count() or 1)


def _seconds(seconds: float) -> str:
    """A time limit as a Vietnamese officer reads it: 120; 1,5."""
    return f"{seconds:g}".replace(".", ",")


class InboxFile(NamedTuple):
    """One entry of an inbox: where it is, the name shown for it, and why it is not read (empty: read it)."""

    path: Path
    display: str
    problem: str = ""


_OS_ERRORS = {errno.ENOENT: "tệp không còn", errno.EACCES: "không có quyền đọc", errno.EPERM: "không có quyền đọc",
              errno.ELOOP: "liên kết vòng", errno.ENAMETOOLONG: "tên quá dài", errno.EIO: "lỗi đọc đĩa"}


def _problem(path: Path, walked: bool) -> str:
    """Why an entry is not read: a link found in a folder is never followed; only regular files are read."""
    try:
        st = path.lstat()
    except OSError as exc:
        return f"không mở được ({_OS_ERRORS.get(exc.errno, type(exc).__name__)})"
    if stat.S_ISLNK(st.st_mode):
        if walked:
            return "đây là liên kết (symlink) tới tệp khác, libstats không đọc qua liên kết trong hộp thư"
        try:
            st = path.stat()
        except OSError:
            return "liên kết (symlink) tới một tệp không còn"
    if stat.S_ISDIR(st.st_mode):
        return "đây là thư mục"
    if not stat.S_ISREG(st.st_mode):
        return "không phải tệp thông thường (FIFO, thiết bị hoặc socket)"
    return ""


def collect_files(inputs: Sequence[Path]) -> list[InboxFile]:
    """Every entry under the inputs, sorted, none skipped: hidden files, lock files, links and special files
    are listed too, so that each gets a fate. Links inside a folder are listed, not followed."""
    found = []
    for item in inputs:
        if not item.is_dir():
            found.append(InboxFile(item, item.name, _problem(item, walked=False)))
            continue
        inside = []
        for top, dirs, files in os.walk(item, followlinks=False):
            links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
            for name in [*files, *links]:
                p = Path(top) / name
                inside.append(InboxFile(p, str(p.relative_to(item)), _problem(p, walked=True)))
        found += sorted(inside, key=lambda f: f.display)
    return found


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0


def _watch_parent(parent: int, forked_by_main: bool) -> None:
    """End this process as soon as ``parent`` is no longer its parent, however the parent ended (``kill -9``
    included): an orphan is adopted by another process, so its parent id changes, which a thread watches. Forked
    by the main thread, the kernel also kills it then (Linux ``PR_SET_PDEATHSIG``, public libc API), even while it
    is stuck in native code; not when forked by another thread: the signal follows the thread that forked, and a
    server forks replacements from threads that come and go."""
    if forked_by_main and sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG

    def watch():
        while os.getppid() == parent:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker(conn, job: Callable, limits: WorkerLimits, parent: int, forked_by_main: bool) -> None:
    """A long-lived worker: takes (index, args) tasks, says when it starts each, sends back job(*args)."""
    faulthandler.disable()  # a crash is reported by the parent as a finding, not as a traceback on screen
    _watch_parent(parent, forked_by_main)  # before the memory limit: the thread stack is not in the budget
    budget = _vm_bytes() + limits.memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (budget, budget))
    while True:
        task = conn.recv()
        if task is None:
            return
        i, args = task
        conn.send(("start", i))
        try:
            conn.send(("done", i, job(*args)))
        except MemoryError:
            conn.send(("fail", i, "quá giới hạn bộ nhớ"))
            return  # a worker that ran out of memory is not reused
        except Exception as exc:  # noqa: BLE001 - the parent turns any failure into a finding
            conn.send(("fail", i, f"lỗi khi đọc: {type(exc).__name__}"))


class _Pool:
    """Workers that each run tasks one after another; a crash or a hang costs one task and one worker."""

    def __init__(self, job: Callable, limits: WorkerLimits):
        self.ctx, self.job, self.limits = mp.get_context("fork"), job, limits
        self.workers: dict = {}  # parent connection → [process, current index or None, deadline]

    def spawn(self):
        parent, child = self.ctx.Pipe()
        by_main = threading.current_thread() is threading.main_thread()
        proc = self.ctx.Process(target=_worker, args=(child, self.job, self.limits, os.getpid(), by_main), daemon=True)
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


class _Run:
    """One run of ``run_isolated``: the tasks not yet given, what each worker was given (the first running or
    next to run), and the results so far."""

    def __init__(self, job: Callable, tasks: Sequence[tuple], failed: Callable[[int, str], object],
                 limits: WorkerLimits, progress: Callable[[Iterable], Iterable], ahead: int):
        self.tasks, self.failed, self.limits, self.ahead = tasks, failed, limits, max(1, ahead)
        self.results: dict[int, object] = {}
        self.pending = list(range(len(tasks)))[::-1]  # popped from the end
        self.pool = _Pool(job, limits)
        self.queued: dict = {}  # connection → indices sent to that worker
        self.ticker = iter(progress(range(len(tasks))))

    def start(self) -> None:
        for _ in range(min(self.limits.jobs, len(self.tasks))):
            self.queued[self.pool.spawn()] = deque()
        for conn in list(self.pool.workers):
            self.give(conn)

    def fresh(self) -> None:
        new = self.pool.spawn()
        self.queued[new] = deque()
        self.give(new)

    def give(self, conn) -> None:
        line = self.queued[conn]
        while self.pending and len(line) < self.ahead:
            i = self.pending.pop()
            try:
                conn.send((i, self.tasks[i]))
            except OSError:  # the worker died (a crash, its memory limit) on a task it had been given ahead
                self.pending.append(i)
                if not line:  # nothing of its own left to fail: a new worker takes over at once
                    self.queued.pop(conn)
                    self.pool.retire(conn, kill=True)
                    self.fresh()
                    return
                break  # its running task fails when its end is seen; the others go back to pending then
            line.append(i)
        self.pool.workers[conn][1:] = [line[0] if line else None, time.monotonic() + self.limits.seconds]

    def finish(self, i: int, result) -> None:
        self.results[i] = result
        next(self.ticker, None)

    def replace(self, conn, why: str) -> None:
        line = self.queued.pop(conn)
        i = line.popleft()
        self.finish(i, self.failed(i, why))
        self.pending.extend(reversed(line))  # not started: given to another worker, first
        self.pool.retire(conn, kill=True)
        self.fresh()

    def answer(self, conn, proc) -> None:
        """What a worker that has something to say said: it started a task, finished it, or failed."""
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            msg = None
        if msg and msg[0] == "start":
            self.pool.workers[conn][2] = time.monotonic() + self.limits.seconds  # its clock starts now
        elif msg and msg[0] == "done":
            self.finish(self.queued[conn].popleft(), msg[2])
            self.give(conn)
        else:
            if not msg:  # the pipe closed: the worker died (wait for its exit code: it may not be reaped yet)
                proc.join(5)
            self.replace(conn, msg[2] if msg else f"trình đọc dừng bất thường (mã {proc.exitcode})")

    def step(self) -> None:
        busy = {c: w for c, w in self.pool.workers.items() if w[1] is not None}
        sentinels = {w[0].sentinel: c for c, w in busy.items()}
        ready = set(wait([*busy, *sentinels], timeout=0.5))
        for conn, (proc, _, deadline) in busy.items():
            if conn in ready:
                self.answer(conn, proc)
            elif proc.sentinel in ready and not conn.poll():
                proc.join(5)
                self.replace(conn, f"trình đọc dừng bất thường (mã {proc.exitcode})")
            elif time.monotonic() > deadline:
                self.replace(conn, f"quá {_seconds(self.limits.seconds)} giây")


def run_isolated(job: Callable, tasks: Sequence[tuple], failed: Callable[[int, str], object],
                 limits: WorkerLimits = WorkerLimits(),
                 progress: Callable[[Iterable], Iterable] = lambda it: it, ahead: int = 1) -> list:
    """``job(*task)`` for every task in forked worker processes with a memory and a time limit each; a task
    whose worker crashes, runs out of memory or hangs gives ``failed(index, why)`` instead. Results in order.
    Each worker is given up to ``ahead`` tasks at a time, so that it never waits for this process between two
    (on a busy machine that wait costs a time slice per task); its time limit runs from when it starts a task.
    When a worker fails, the task it had started fails and the tasks it had not started go to another. Give
    more than one ahead only for small tasks: a task waits in the pipe until its worker is free, and this
    process could not go on while a large one fills the pipe to a worker that hangs."""
    run = _Run(job, tasks, failed, limits, progress, ahead)
    try:
        run.start()
        while len(run.results) < len(tasks):
            run.step()
    finally:
        for conn in list(run.pool.workers):
            run.pool.retire(conn)
    next(run.ticker, None)
    return [run.results[i] for i in range(len(tasks))]


def _failed(path: Path, display: str, detail: str) -> CheckResult:
    res = CheckResult(str(path), display)
    res.findings.append(make("F09", file=display, detail=detail))
    return res


def check_many(files: Sequence[tuple], spec: Spec | None = None, year: int | None = None,
               limits: WorkerLimits = WorkerLimits(), progress: Callable[[Iterable], Iterable] = lambda it: it,
               isolate: bool = True, conversions: Path | None = None) -> list[CheckResult]:
    """Check every file (``InboxFile`` or (path, display)); results in the order of ``files``.
    ``isolate=False`` runs in this process; ``conversions``: where .xls/.ods conversions are kept."""
    job = _Checker(spec or default_spec(), conversions)
    if year is not None:
        prepare(year, job.spec)  # once before forking: workers inherit it
    tasks = [(Path(f[0]), year, f[1], f[2] if len(f) > 2 else "") for f in files]
    if not isolate:
        return [job.check(*t) for t in progress(tasks)]
    return run_isolated(job, tasks, lambda i, why: _failed(tasks[i][0], tasks[i][2], why), limits, progress,
                        ahead=2)  # a task is a path and two names: small


class _Checker:
    """A check worker's job: the spec is handed over once, when the worker is forked, never with each file (a
    spec sent through the pipe arrives as a new object, and the form would be laid out again for every file)."""

    def __init__(self, spec: Spec, conversions: Path | None = None):
        self.spec, self.conversions = spec, conversions

    def check(self, path: Path, year: int | None, display: str, problem: str) -> CheckResult:
        return check_file(path, self.spec, year, display, problem, self.conversions)  # looked up at call time

    __call__ = check  # in a worker


class WorkerPool:
    """Long-lived isolated workers for a server: ``check`` from any thread takes an idle worker (waiting when
    all are busy), so an upload costs no process start. The same workers, limits and failures as
    ``run_isolated``: a crash, a hang or running out of memory gives the file F09 and replaces its worker."""

    def __init__(self, spec: Spec | None = None, limits: WorkerLimits = WorkerLimits(), year: int | None = None,
                 conversions: Path | None = None):
        import queue

        self.spec, self.limits = spec or default_spec(), limits
        if year is not None:
            prepare(year, self.spec)  # before forking: the workers inherit it
        self._pool = _Pool(_Checker(self.spec, conversions), limits)
        self._idle: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        for _ in range(limits.jobs):
            self._idle.put(self._pool.spawn())

    def check(self, path: Path, display: str, year: int | None) -> CheckResult:
        if year is not None:
            prepare(year, self.spec)  # made once here; a replaced worker inherits it
        conn = self._idle.get()
        try:
            why = self._run(conn, (Path(path), year, display, ""))
            if not isinstance(why, str):
                return why
            with self._lock:
                if conn in self._pool.workers:
                    self._pool.retire(conn, kill=True)
                conn = self._pool.spawn()
            return _failed(Path(path), display, why)
        finally:
            self._idle.put(conn)

    def _run(self, conn, task: tuple) -> CheckResult | str:
        """The worker's result, or why there is none."""
        proc = self._pool.workers[conn][0]
        deadline = time.monotonic() + self.limits.seconds
        try:
            conn.send((0, task))
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not conn.poll(left):
                    return f"quá {_seconds(self.limits.seconds)} giây"
                msg = conn.recv()
                if msg[0] == "done":
                    return msg[2]
                if msg[0] == "fail":
                    return msg[2]
        except (EOFError, OSError):
            proc.join(5)
            return f"trình đọc dừng bất thường (mã {proc.exitcode})"

    def pids(self) -> list[int]:
        """The process ids of the live workers (none once closed)."""
        with self._lock:
            return sorted(w[0].pid for w in self._pool.workers.values())

    def close(self) -> None:
        with self._lock:
            for conn in list(self._pool.workers):
                self._pool.retire(conn)


def _row_field(form: Form, indicator: str, dim: str) -> Field | None:
    return next((r.n for r in form.rows if r.indicator == indicator and r.dim == dim), None)


def outlier_fields(form: Form) -> set[str]:
    """The fields ``outlier_findings`` reads (the spec's ratios and per-inhabitant sums, in their dimension)."""
    rows = [(r.numerator, r.dim) for r in form.spec.ratios] + [(r.denominator, r.dim) for r in form.spec.ratios]
    rows += [(ind, r.dim) for r in form.spec.per_inhabitant for ind in r.sum]
    return {f.id for ind, dim in rows if (f := _row_field(form, ind, dim)) is not None}


def outlier_findings(results: Sequence[CheckResult], form: Form, threshold: float = 3.5,
                     minimum: int = 8) -> dict[int, list[Finding]]:
    """B02 warnings, by position in ``results``, where a province's ratio is far from the others' (robust z on
    the median): the spec's ``ratios`` (per library, per card…) and its ``per_inhabitant`` ratios for the
    provinces whose population is known (never an invented one); needs at least ``minimum`` provinces
    without errors."""
    from libstats.model.population import per_inhabitant, population  # lazy: the workers never need it

    usable = [(i, r) for i, r in enumerate(results) if r.province is not None and r.errors == 0]
    checks: list[tuple[str, Field, list[tuple[int, CheckResult, float]]]] = []
    for ratio in form.spec.ratios:
        num, den = _row_field(form, ratio.numerator, ratio.dim), _row_field(form, ratio.denominator, ratio.dim)
        if num is not None and den is not None:
            checks.append((ratio.label, num, [
                (i, r, a / b) for i, r in usable
                if isinstance(a := r.values.get(num.id), int) and isinstance(b := r.values.get(den.id), int)
                and b > 0]))
    for ratio in form.spec.per_inhabitant:
        parts = [_row_field(form, ind, ratio.dim) for ind in ratio.sum]
        if not parts or None in parts:
            continue
        pairs = []
        for i, r in usable:
            figures = [r.values.get(f.id) for f in parts]
            if all(isinstance(v, int) and not isinstance(v, bool) for v in figures):
                x = per_inhabitant(sum(figures), population(r.province.code_list, r.province.code, form.year),
                                   ratio.per)
                if x is not None:
                    pairs.append((i, r, x))
        checks.append((ratio.label, parts[0], pairs))
    found: dict[int, list[Finding]] = {}
    for label, target, pairs in checks:
        if len(pairs) < minimum:
            continue
        med = statistics.median(x for _, _, x in pairs)
        mad = statistics.median(abs(x - med) for _, _, x in pairs)
        if mad == 0 or med == 0:
            continue
        for i, res, x in pairs:
            if abs(0.6745 * (x - med) / mad) <= threshold:
                continue
            sheet, cell = res.sources.get(target.id, (target.sheet, target.cell))
            found.setdefault(i, []).append(make(
                "B02", severity=Severity.WARNING, file=res.display, sheet=sheet, cell=cell, field=target.id,
                label=target.label, detail=outlier_detail(x, med, label)))
    return found
