"""Publish a consolidation: the summary workbook, the tidy dataset and its descriptor, the feedback copies.

The one way every caller writes what a consolidation made: the ``consolidate`` command, the collection's
"Chạy tổng hợp" button (``collection.collect.run_consolidation``) and the demo. Last year's dataset, when
given, is what the summary compares with (its "so với năm trước" sheet and the carried district level).

Output faults end cleanly: the summary and the dataset are first written whole into a hidden folder beside
them; only when both are complete are they renamed into place (the descriptor, small, is written just before).
A full disk, a read-only folder or a folder that vanished gives ``OutputError``: a Vietnamese message naming
the file, no temporary file left, the previous outputs as they were.
"""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from xlsxwriter.exceptions import FileCreateError

from libstats.consolidation.consolidate import Consolidation
from libstats.consolidation.datapackage import DESCRIPTOR, write_descriptor
from libstats.consolidation.dataset import dataset_path, write_dataset
from libstats.outputs.feedback import write_feedbacks
from libstats.outputs.summary import write_summary

__all__ = ["Published", "publish", "OutputError", "NothingToPublish", "output_reason"]


class OutputError(ValueError):
    """An output could not be written (disk full, read-only, vanished): nothing was replaced."""


class NothingToPublish(ValueError):
    """No return of the year was accepted: nothing is written."""


@dataclass(frozen=True)
class Published:
    summary: Path
    dataset: Path
    descriptor: Path
    feedback: Path | None = None
    feedbacks: list[Path | None] = field(default_factory=list)  # one per ledger entry (None: no copy)


_REASONS = {errno.ENOSPC: "ổ đĩa đã đầy", errno.EDQUOT: "đã hết hạn mức dung lượng được dùng",
            errno.EROFS: "ổ đĩa chỉ cho đọc", errno.EACCES: "không có quyền ghi vào thư mục này",
            errno.EPERM: "không có quyền ghi vào thư mục này",
            errno.ENOENT: "thư mục ghi không còn (đã bị xóa, đổi tên hoặc ổ đĩa đã được rút ra)",
            errno.ENOTDIR: "một phần của đường dẫn là tệp, không phải thư mục",
            errno.EISDIR: "đã có một thư mục trùng tên",
            errno.EEXIST: "đã có một tệp trùng tên với thư mục cần ghi (đường dẫn đi qua một tệp, không phải "
                          "thư mục)", errno.EIO: "ổ đĩa báo lỗi đọc ghi"}


def output_reason(exc: BaseException) -> str:
    """Why an output could not be written, in Vietnamese (never the operating system's English words)."""
    cause = exc.args[0] if isinstance(exc, FileCreateError) and exc.args else exc
    code = getattr(cause, "errno", None)
    return _REASONS.get(code, f"lỗi hệ thống khi ghi tệp (mã lỗi {code})" if code else "lỗi khi ghi tệp")


def _fault(path: Path, exc: BaseException) -> OutputError:
    return OutputError(f"Không ghi được tệp {path}: {output_reason(exc)}. Chưa thay tệp kết quả nào: các tệp cũ "
                       "(nếu có) giữ nguyên, không để lại tệp tạm. Hãy giải phóng chỗ trống hoặc chọn thư mục "
                       "ghi khác rồi chạy lại.")


@contextmanager
def _writing(path: Path):
    """Turn a fault while writing ``path`` into OutputError."""
    try:
        yield
    except (OSError, FileCreateError) as exc:
        raise _fault(path, exc) from exc


STALE_STAGE = 3600  # seconds: a staging folder this old was left by a run that was killed


@contextmanager
def _stage(folder: Path, stem: str):
    """A hidden folder beside the outputs to write them whole in; always removed (and those a killed run left)."""
    with _writing(folder):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob(f".{stem}.tmp-*"):
            if old.is_dir() and not old.is_symlink() and time.time() - old.stat().st_mtime > STALE_STAGE:
                shutil.rmtree(old, ignore_errors=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{stem}.tmp-", dir=folder))
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def nothing_message(year: int) -> str:
    return (f"Không có báo cáo nào của năm {year} được chấp nhận, nên không ghi bảng tổng hợp và bộ dữ liệu (các "
            f"tệp cũ, nếu có, giữ nguyên). Xem lỗi của từng tệp bằng lệnh: libstats check … --year {year}")


def publish(con: Consolidation, summary: Path, previous: Path | None = None, feedback: Path | None = None,
            progress: Callable[[Iterable], Iterable] = lambda it: it) -> Published:
    """Write the summary workbook ``summary`` (compared with ``previous``, last year's dataset, when given), the
    dataset beside it with its descriptor (``con.form.spec``), and the feedback copies into ``feedback``.
    NothingToPublish when no return was accepted; OutputError (nothing replaced) when a file cannot be written."""
    if not con.reporting:
        raise NothingToPublish(nothing_message(con.year))
    summary = Path(summary)
    data = dataset_path(summary)
    if feedback is not None:  # before anything is replaced: a feedback folder that cannot be made is said first
        with _writing(Path(feedback)):
            Path(feedback).mkdir(parents=True, exist_ok=True)
    with _stage(summary.parent, summary.stem) as stage:
        with _writing(summary):
            write_summary(con, stage / summary.name, previous)
        with _writing(data):
            write_dataset(con.tidy, stage / data.name, con.form.spec, describe=False)  # described below
        with _writing(data.with_name(DESCRIPTOR)):
            descriptor = write_descriptor(con.tidy, data, con.form.spec)
        with _writing(data):
            os.replace(stage / data.name, data)
        with _writing(summary):
            os.replace(stage / summary.name, summary)
    made = write_feedbacks(con.ledger, feedback, progress=progress) if feedback is not None else []
    return Published(summary, data, descriptor, feedback, made)
