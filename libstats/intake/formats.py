"""Intake of one returned file: detect the real format from its bytes, convert old formats, refuse the rest.

.xlsx and .xlsm are read as they are (macros are never run). .xls and .ods are converted with headless
LibreOffice when it is installed; with ``keep`` (a collection's converted/ folder) the .xlsx made is kept there,
named by the received file's SHA-256, and read again instead of converting twice: a later check (the
consolidation's) reads exactly what the first one read. Everything else gets its own finding code.
"""

from __future__ import annotations

import hashlib
import io
import posixpath
import shutil
import stat
import subprocess
import tempfile
import unicodedata
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path

from libstats.atomic import atomic_path

__all__ = ["IntakeError", "Intake", "take_in", "MAX_FILE_BYTES"]

MAX_FILE_BYTES = 50 * 2**20
SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class IntakeError(Exception):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}")
        self.code, self.detail = code, detail


@dataclass(frozen=True)
class Intake:
    data: bytes  # .xlsx bytes to read
    kind: str  # "xlsx", "xlsm", "xls", "ods", "xml"
    sha256: str  # of the file as received
    converted: bool = False
    zip: zipfile.ZipFile | None = None  # the package already opened while sniffing (not for converted files)


def _sniff(data: bytes) -> tuple[str, zipfile.ZipFile | None]:
    if not data:
        raise IntakeError("F02")
    if data.startswith(_OLE):
        # an encrypted OOXML file is an OLE container holding an "EncryptedPackage" stream
        if "EncryptedPackage".encode("utf-16-le") in data or b"EncryptedPackage" in data:
            raise IntakeError("F04")
        return "xls", None
    if data.startswith(b"PK"):
        try:
            z = zipfile.ZipFile(io.BytesIO(data))
            names = set(z.namelist())
        except zipfile.BadZipFile as exc:
            raise IntakeError("F03", str(exc)) from exc
        if "mimetype" in names and z.read("mimetype").startswith(b"application/vnd.oasis.opendocument.spreadsheet"):
            return "ods", None
        if "xl/workbook.xml" in names:
            ctypes = _read(z, "[Content_Types].xml") if "[Content_Types].xml" in names else b""
            return ("xlsm" if b"macroEnabled" in ctypes else "xlsx"), z
        if "word/document.xml" in names:
            raise IntakeError("F01", "tệp Word .docx")
        raise IntakeError("F01", _zip_contents(z))
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"urn:schemas-microsoft-com:office:spreadsheet" in head:
        return "xml", None  # Excel 2003 XML spreadsheet saved as .xls
    if head.startswith((b"<!doctype html", b"<html", b"<table", b"<?xml")) or b"<html" in head:
        raise IntakeError("F05")
    if data.startswith(b"%PDF"):
        raise IntakeError("F01", "tệp PDF")
    raise IntakeError("F01", "không nhận ra định dạng")


def _read(z: zipfile.ZipFile, name: str) -> bytes:
    """A member's bytes; none when it is compressed otherwise than stored or deflated (the reader then refuses
    the file, naming the part)."""
    info = z.getinfo(name)
    return z.read(info) if info.compress_type in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) else b""


def _member_name(info: zipfile.ZipInfo) -> str:
    """A zip member's file name as its sender wrote it, safe to show (no control characters)."""
    name = info.filename
    if not info.flag_bits & 0x800:  # not flagged UTF-8: Python decoded cp437; most Vietnamese tools wrote UTF-8
        try:
            name = name.encode("cp437").decode("utf-8")
        except UnicodeError:
            pass
    name = unicodedata.normalize("NFC", posixpath.basename(name.rstrip("/")))
    return "".join(ch if ch.isprintable() else "?" for ch in name)


def _zip_contents(z: zipfile.ZipFile, shown: int = 5) -> str:
    """What a zip that is no workbook holds, said for the officer: its spreadsheets, or that it holds none."""
    books = [_member_name(i) for i in z.infolist() if not i.is_dir()
             and i.filename.lower().endswith(SPREADSHEET_SUFFIXES)]
    if not books:
        return f"tệp nén chứa {len(z.infolist())} tệp, không có bảng tính nào"
    listed = ", ".join(books[:shown]) + (f" và {len(books) - shown} tệp khác" if len(books) > shown else "")
    if len(books) == 1:
        return f"tệp nén chứa 1 bảng tính: {listed}; hãy giải nén và gửi riêng tệp đó"
    return f"tệp nén chứa {len(books)} bảng tính: {listed}; hãy gửi từng tệp riêng"


def _convert(data: bytes, kind: str, timeout: int = 120) -> bytes:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if not soffice:
        raise IntakeError("F07", "." + kind)
    with tempfile.TemporaryDirectory(prefix="libstats-convert-") as tmp:
        src = Path(tmp) / f"in.{kind}"
        src.write_bytes(data)
        profile = Path(tmp) / f"profile-{uuid.uuid4().hex[:6]}"
        try:
            subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                            "--convert-to", "xlsx", "--outdir", tmp, str(src)], capture_output=True,
                           timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise IntakeError("F09", f"chuyển đổi .{kind} quá {timeout} giây") from exc
        out = Path(tmp) / "in.xlsx"
        if not out.exists():
            raise IntakeError("F03", f"LibreOffice không mở được tệp .{kind}")
        return out.read_bytes()


def _kept(data: bytes, kind: str, digest: str, keep: Path | None) -> bytes:
    """The conversion of ``data``: the one kept in ``keep`` when there is one, else made (and kept there)."""
    if keep is None:
        return _convert(data, kind)
    kept = Path(keep) / f"{digest}.xlsx"
    if kept.is_file():
        return kept.read_bytes()
    out = _convert(data, kind)
    try:  # a conversion that cannot be kept is still read now
        with atomic_path(kept) as tmp:
            tmp.write_bytes(out)
    except OSError:
        pass
    return out


def take_in(path: Path, keep: Path | None = None) -> Intake:
    """Read a file's bytes (never modifying it) and return .xlsx bytes to parse, or raise IntakeError.
    ``keep``: the folder where conversions are kept (see the module's docstring)."""
    st = path.stat()
    if not stat.S_ISREG(st.st_mode):  # a FIFO, device or folder would block or mislead the reader
        raise IntakeError("F01", "không phải một tệp thông thường")
    if st.st_size > MAX_FILE_BYTES:
        raise IntakeError("F06", f"{st.st_size // 2**20} MB")
    with path.open("rb") as fh:
        data = fh.read(MAX_FILE_BYTES + 1)  # the size may have changed since stat()
    if len(data) > MAX_FILE_BYTES:
        raise IntakeError("F06", f"hơn {MAX_FILE_BYTES // 2**20} MB")
    kind, z = _sniff(data)
    digest = hashlib.sha256(data).hexdigest()
    if kind in ("xls", "ods", "xml"):
        return Intake(_kept(data, kind, digest, keep), kind, digest, converted=True)
    return Intake(data, kind, digest, zip=z)
