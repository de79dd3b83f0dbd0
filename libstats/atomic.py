"""Where outputs go and how: never over or inside an input, under the name their kind has, and atomically (a
temporary file beside the target, renamed into place): an interrupted run leaves either the old file or none,
never half a workbook.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from collections.abc import Iterator, Sequence

__all__ = ["atomic_path", "guard_outputs", "require_suffix", "refuse_replacing"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``target`` (mode 0666 less the umask)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix=target.suffix, dir=target.parent, prefix=f".{target.stem}.tmp-")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def guard_outputs(inputs: Sequence[Path], outputs: Sequence[Path | None]) -> None:
    """Refuse (ValueError, in Vietnamese) an output that is an input or lies inside an input folder."""
    ins = [Path(p).resolve() for p in inputs]
    for out in outputs:
        if out is None:
            continue
        o = Path(out).resolve()
        for i in ins:
            if o == i or (i.is_dir() and o.is_relative_to(i)):
                raise ValueError(f"Không ghi '{out}': tệp kết quả không được ghi đè hoặc ghi vào trong dữ liệu "
                                 f"đầu vào '{i}'. Hãy chọn tệp hoặc thư mục khác, ở ngoài dữ liệu đầu vào.")


def require_suffix(path: Path, suffix: str, what: str, example: str) -> None:
    """Refuse (ValueError, in Vietnamese) an output named otherwise than its kind: a report written as
    "tong-hop-2025.xlsx" would replace the summary workbook of that name."""
    if Path(path).suffix.lower() != suffix:
        raise ValueError(f"Không ghi '{path}': {what} là tệp {suffix}, tên tệp phải có đuôi {suffix} (ví dụ "
                         f"{example}).")


def refuse_replacing(folder: Path, paths: Sequence[Path], option: str = "--overwrite") -> None:
    """Refuse (ValueError, in Vietnamese) to write files of a kind that a user fills (forms, sample returns)
    over files already in ``folder``: a filled return has the name of its blank form."""
    there = [p for p in paths if p.exists()]
    if there:
        names = ", ".join(p.name for p in there[:3]) + (f" và {len(there) - 3} tệp khác" if len(there) > 3 else "")
        raise ValueError(f"Không ghi: thư mục {folder} đã có {len(there)} tệp cùng tên ({names}), có thể là báo cáo "
                         f"tỉnh đã điền. Hãy chọn thư mục khác, hoặc thêm {option} để thay các tệp đó.")
