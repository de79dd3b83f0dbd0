"""A collection folder for one report year: the forms sent out, the inbox, the register, the status.

    DIR/register.sqlite   every file received, its verdict and findings; approvals, reviewed warnings, links
    DIR/inbox/            every file received, by e-mail (dropped by hand) or uploaded (named by libstats)
    DIR/forms/            the year's blank forms, one per province
    DIR/feedback/         the feedback workbook of each file that has findings
    DIR/summary/          the summary workbook and dataset, when the Ministry runs the consolidation
    DIR/.incoming/        uploads being written (a temporary name; moved into inbox/ once whole)
    DIR/converted/        the .xlsx made once of each .xls/.ods received (named by its SHA-256)
    DIR/previous/         last year's dataset (``collect init --previous``), compared with by every command

Files dropped into inbox/ are picked up (checked and recorded) by every command that opens the folder, so
e-mail and the upload page work side by side. Every check runs in the isolated workers of ``batch``; the
process that calls this module never parses a received file itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import os
import re
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from libstats.model.findings import Finding, Severity, make, verdict
from libstats.consolidation.ledger import SET_ASIDE_CODES
from libstats.model.form import build_form
from libstats.model.provinces import Province, provinces_for_year, slug
from libstats.collection.register import REGISTER_NAME, FileRecord, Register, now_utc
from libstats.checks.result import CheckResult
from libstats.forms.template import template_filename, write_templates

__all__ = ["Collection", "ProvinceStatus", "Status", "init_collection", "open_collection", "pick_up",
           "receive_upload", "feedback_workbook", "collection_status", "issue_links", "review_warning", "approve",
           "reopen", "recheck", "reviewed_warnings", "run_consolidation", "decide_correction", "accepted_corrections",
           "apply_corrections", "corrected_previous", "is_collection", "review_collection",
           "consolidate_collection", "sweep", "NotReceived", "review_inputs", "consolidate_inputs",
           "WrongCollectionYear", "consolidation_notice", "previous_dataset", "keep_previous",
           "PREVIOUS_DIR", "STATUS_LABELS", "MINISTRY", "VN_TZ"]

MINISTRY = "ministry"
VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")  # Vietnam keeps one offset all year
STATUS_LABELS = {"missing": "Chưa gửi", "rejected": "Đã gửi, bị trả lại", "warnings": "Chấp nhận có cảnh báo",
                 "accepted": "Chấp nhận", "approved": "Đã duyệt"}
ACCEPTED = ("accepted", "accepted_with_warnings")
_CHECKS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))  # uploads checked at once in this process


@dataclass(frozen=True)
class Collection:
    root: Path
    year: int
    deadline: dt.date

    @property
    def register(self) -> Register:
        return Register(self.root / REGISTER_NAME)

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def forms(self) -> Path:
        return self.root / "forms"

    @property
    def incoming(self) -> Path:
        return self.root / ".incoming"

    @property
    def feedback(self) -> Path:
        return self.root / "feedback"

    @property
    def summary(self) -> Path:
        return self.root / "summary"

    @property
    def conversions(self) -> Path:
        """The .xlsx LibreOffice made of each .xls/.ods received, named by the file's SHA-256: made once, at
        intake, and read again by every later check (the consolidation reads what the first check read)."""
        return self.root / "converted"

    @property
    def provinces(self) -> tuple[Province, ...]:
        return provinces_for_year(self.year)

    def province(self, key: str) -> Province | None:
        return next((p for p in self.provinces if p.key == key), None)

    def form_path(self, p: Province) -> Path:
        return self.forms / template_filename(build_form(self.year), p)


def init_collection(root: Path, year: int, deadline: dt.date,
                    progress=lambda it: it, previous: Path | None = None) -> Collection:
    """Create the folder's inbox, forms and register (and DIR/previous/ with ``previous``, last year's dataset:
    ``keep_previous``); ValueError when a register is already there."""
    root = Path(root)
    if (root / REGISTER_NAME).exists():
        raise ValueError(f"thư mục {root} đã có sổ đăng ký của một đợt thu thập")
    if previous is not None:
        keep_previous(root, year, previous)
    col = Collection(root, year, deadline)
    col.inbox.mkdir(parents=True, exist_ok=True)
    write_templates(build_form(year), list(col.provinces), col.forms, progress=progress, overwrite=True)
    col.register.create({"year": str(year), "deadline": deadline.isoformat(), "created": now_utc().isoformat()})
    return col


def open_collection(root: Path) -> Collection:
    """The collection in ``root``; ValueError when the folder has no register."""
    root = Path(root)
    if not (root / REGISTER_NAME).is_file():
        raise ValueError(f"thư mục {root} chưa có sổ đăng ký (hãy chạy: libstats collect init {root} …)")
    reg = Register(root / REGISTER_NAME)
    reg.upgrade()
    s = reg.settings()
    return Collection(root, int(s["year"]), dt.date.fromisoformat(s["deadline"]))


# checking ----------------------------------------------------------------------------------------------------
def _check_upload(col: Collection, paths: list[tuple[Path, str]], pool=None) -> list[CheckResult]:
    """THE adapter to the library's check: isolated workers (``pool``, a long-lived ``batch.WorkerPool``, or a
    batch of fresh ones). A check that fails for any reason gives its file F09, so that no file stays "being
    checked"."""
    from libstats.checks.batch import check_many

    try:
        if pool is not None:
            return [pool.check(p, display, col.year) for p, display in paths]
        with _CHECKS:
            return check_many(paths, None, col.year, conversions=col.conversions)
    except Exception as exc:  # noqa: BLE001 - recorded as F09 on each file; the file can be checked again
        why = f"lỗi khi kiểm tra: {type(exc).__name__}"
        return [CheckResult(str(p), display, findings=[make("F09", file=display, detail=why)]) for p, display in paths]


def feedback_workbook(col: Collection, rec: FileRecord, seconds: float = 60) -> Path | None:
    """The feedback workbook of a recorded file (a copy with a first sheet of findings), made on first request
    in an isolated worker (``feedback.write_feedbacks``: the received file is opened there, never in the server);
    None when the file has no findings or cannot be opened as a workbook."""
    from libstats.checks.batch import WorkerLimits
    from libstats.outputs.feedback import write_feedbacks
    from libstats.consolidation.ledger import Entry

    if rec.feedback:
        return col.feedback / rec.feedback
    if not rec.findings or not rec.sha256:
        return None
    res = CheckResult(str(col.inbox / rec.stored), rec.stored, kind=Path(rec.stored).suffix.lstrip("."),
                      findings=list(rec.findings))
    [made] = write_feedbacks([Entry(res, "chosen")], col.feedback, WorkerLimits(seconds=seconds, jobs=1))
    if made is None:
        return None
    col.register.set_feedback(rec.id, made.name)
    return made


def _finish(col: Collection, file_id: int, res: CheckResult, link: Province | None) -> FileRecord:
    found = list(res.findings)
    province = res.province.key if res.province and col.province(res.province.key) else None
    if link is not None:  # the stored name is libstats' own: the link, not the name, says whose file it is
        found = [f for f in found if f.code != "I05"]
        if res.province is not None and res.province.key != link.key:
            found.append(make("C01", file=res.display, detail=res.province.name, expected=link.name))
        province = link.key
    corrections = _corrections(col, res, file_id, province)
    found += [c.pop("finding") for c in corrections]
    # libstats' own output (an unedited feedback copy, a summary) or a lock file is never a province's return
    aside = any(f.code in SET_ASIDE_CODES for f in found)
    return col.register.record(file_id, sha256=res.sha256, size=res.size, province=province,
                               verdict="rejected" if aside else verdict(found).value, findings=found, feedback=None,
                               corrections=corrections, figures=_figures(col, res))


def _figures(col: Collection, res: CheckResult) -> dict:
    """What the checks across provinces read of a file (``cross_warnings``), kept in the register."""
    from libstats.checks.batch import outlier_fields

    kept = outlier_fields(build_form(col.year)) & res.values.keys()
    return {"values": {k: res.values[k] for k in kept}, "sources": {k: res.sources[k] for k in kept
                                                                    if k in res.sources}}


def _corrections(col: Collection, res: CheckResult, file_id: int, province: str | None) -> list[dict]:
    """The corrected last-year figures typed in the form's correction column, each with its C02 finding."""
    from libstats.consolidation.corrections import requested_corrections

    if province is None or res.year != col.year:
        return []
    out = []
    for c in requested_corrections(res, build_form(col.year)):
        sheet, cell = c.where
        out.append({"file_id": file_id, "province": province, "field": c.row.p.id, "indicator": c.row.indicator,
                    "dim": c.row.dim, "label": c.row.p.label, "reported": c.reported, "corrected": c.corrected,
                    "sheet": sheet, "cell": cell, "finding": c.finding()})
    return out


def _visible(name: str) -> bool:
    return not name.startswith((".", "~$"))


def _dropped(inbox: Path) -> list[Path]:
    """Every visible regular file in the inbox and its visible subfolders (a folder of e-mail attachments dropped
    in counts like its files); links are never followed."""
    found = []
    for folder, dirs, files in os.walk(inbox):
        dirs[:] = [d for d in dirs if _visible(d)]
        found += [p for name in files if _visible(name) and (p := Path(folder) / name).is_file() and not p.is_symlink()]
    return found


STALE_AFTER = dt.timedelta(minutes=10)  # a check never takes this long (the workers' limit is 2 minutes)
# the hidden temporary name an older libstats wrote uploads to in inbox/: ".01_ha-noi_20250101-101010_ab12cd34.xlsx.x"
_OLD_TEMP = re.compile(r"\.\d\d_[a-z0-9-]+_\d{8}-\d{6}_[0-9a-f]{8}\.[a-z]+\..+")


def _older(p: Path, before: float) -> bool:
    try:
        return p.lstat().st_mtime < before
    except OSError:
        return False


def sweep(col: Collection, start: bool = False) -> int:
    """Clear what a stopped process left: temporary files of uploads (all of them at the server's ``start``,
    else those older than ``STALE_AFTER``) and rows whose file is not in the inbox (at ``start`` every such row,
    else those whose check never ended), which become failed receptions. Returns how many rows were marked."""
    before = float("inf") if start else (now_utc() - STALE_AFTER).timestamp()
    temps = [*(col.incoming.iterdir() if col.incoming.is_dir() else ()),
             *(p for p in col.inbox.iterdir() if _OLD_TEMP.fullmatch(p.name))]
    for p in temps:
        if p.is_file() and _older(p, before):
            with contextlib.suppress(OSError):
                p.unlink()
    rows = (col.register.stored_names() if start else
            {r["id"]: r["stored"] for r in col.register.stale(now_utc() - STALE_AFTER)})
    lost = [i for i, stored in rows.items() if not (col.inbox / stored).is_file()]
    if lost:
        col.register.not_received(lost)
    return len(lost)


def pick_up(col: Collection) -> list[FileRecord]:
    """Check and record every file in the inbox that the register does not know yet (dropped by hand), and every
    file whose check never ended (the process checking it stopped): none stays "being checked". A row whose file
    never arrived becomes a failed reception (``sweep``), never a check of a missing file."""
    sweep(col)
    known = col.register.known()
    new = sorted((p for p in _dropped(col.inbox) if p.relative_to(col.inbox).as_posix() not in known),
                 key=lambda p: (p.stat().st_mtime, p.name))  # in the order they came
    claimed = [(p, fid, None) for p in new if (fid := col.register.receive(
        name := p.relative_to(col.inbox).as_posix(), name, "inbox", None)) is not None]
    for row in col.register.stale(now_utc() - STALE_AFTER):
        link = col.province(row["province"]) if row["channel"] == "upload" and row["province"] else None
        claimed.append((col.inbox / row["stored"], row["id"], link))
    if not claimed:
        return []
    results = _check_upload(col, [(p, p.name) for p, _, _ in claimed])
    return [_finish(col, fid, res, link) for (_, fid, link), res in zip(claimed, results, strict=True)]


def recheck(col: Collection, file_id: int, pool=None) -> FileRecord:
    """Check a recorded file again whose check failed (F09: a worker crashed, ran out of time or memory); the
    file keeps its round. ValueError for any other file."""
    rec = col.register.file(file_id)
    if rec is None or not any(f.code == "F09" for f in rec.findings):
        raise ValueError("chỉ kiểm tra lại được tệp chưa kiểm tra xong (F09)")
    if not (col.inbox / rec.stored).is_file():
        col.register.not_received([rec.id])
        raise ValueError("tệp không còn trong hộp thư: không kiểm tra lại được")
    link = col.province(rec.province) if rec.channel == "upload" and rec.province else None
    [res] = _check_upload(col, [(col.inbox / rec.stored, rec.stored)], pool)
    return _finish(col, file_id, res, link)


_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".xml"}


def _stored_name(p: Province, sent_name: str) -> str:
    suffix = Path(sent_name).suffix.lower()
    suffix = suffix if suffix in _SUFFIXES else ".bin"
    stamp = now_utc().astimezone(VN_TZ).strftime("%Y%m%d-%H%M%S")
    return f"{p.code}_{slug(p.name)}_{stamp}_{secrets.token_hex(4)}{suffix}"


class NotReceived(Exception):
    """An upload that could not be stored whole: nothing of it was kept or recorded; the province sends it again."""


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _written(col: Collection, data: BinaryIO) -> str:
    """``data`` written to a temporary name inside the collection, flushed and synced; its path."""
    col.incoming.mkdir(exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=col.incoming)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(data, out, 1 << 20)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def _link(tmp: str, target: Path, done: list) -> None:
    os.link(tmp, target)
    done.append(target)


def _placed(col: Collection, link: Province, tmp: str, sent_name: str) -> tuple[str, int]:
    """The written file linked into the inbox under a new name libstats chooses (a link never replaces a file)
    and its row added, in one transaction of the register, then the inbox synced (outside the transaction, so
    that pages do not wait on the disk; a row whose file a power cut took is a failed reception at the start);
    (stored name, row id)."""
    while True:
        stored, done = _stored_name(link, sent_name), []
        try:
            file_id = col.register.receive(stored, sent_name, "upload", link.key,
                                           functools.partial(_link, tmp, col.inbox / stored, done))
        except FileExistsError:
            continue  # another file has that name: a new name
        except BaseException:
            if done:
                (col.inbox / stored).unlink(missing_ok=True)
            raise
        if file_id is not None:
            _sync_folder(col.inbox)
            return stored, file_id
        (col.inbox / stored).unlink(missing_ok=True)  # a name the register holds (its file removed by hand)


def receive_upload(col: Collection, link: Province, data: BinaryIO, sent_name: str, pool=None) -> FileRecord:
    """Store an uploaded file in the inbox under a name libstats chooses (never overwriting), record it for
    ``link``'s province once it is whole on disk, check it in the isolated workers. ``sent_name`` is only shown,
    never used as a path. NotReceived when the file could not be stored: then nothing is kept or recorded."""
    sent_name = sent_name.replace("\x00", "")[-200:] or "(không tên)"
    try:
        tmp = _written(col, data)
    except OSError as exc:
        raise NotReceived(f"không lưu được tệp ({type(exc).__name__})") from exc
    try:
        stored, file_id = _placed(col, link, tmp, sent_name)
    except OSError as exc:
        raise NotReceived(f"không lưu được tệp vào hộp thư ({type(exc).__name__})") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    res = _check_upload(col, [(col.inbox / stored, stored)], pool)[0]
    return _finish(col, file_id, res, link)


# status ----------------------------------------------------------------------------------------------------
@dataclass
class ProvinceStatus:
    province: Province
    status: str  # a key of STATUS_LABELS
    rounds: int
    last: FileRecord | None  # the latest file received
    used: FileRecord | None  # the file that counts (approved, or the latest when it is not rejected)
    on_time: bool | None  # the used file arrived by the deadline
    open_warnings: list[Finding] = field(default_factory=list)  # warnings of the used file not yet reviewed
    corrections: list[dict] = field(default_factory=list)  # corrections of last year's figures in the used file
    findings: list[Finding] = field(default_factory=list)  # the used file's, then the checks across provinces' (B02)

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]

    def as_dict(self) -> dict:
        return {"code": self.province.code, "key": self.province.key, "name": self.province.name,
                "status": self.status, "label": self.label, "rounds": self.rounds,
                "last_received": self.last.received.isoformat() if self.last else None,
                "file": self.used.stored if self.used else None, "on_time": self.on_time,
                "open_warnings": len(self.open_warnings),
                "corrections": {name: sum(c["decision"] == d for c in self.corrections)
                                for name, d in (("pending", None), ("accepted", "accepted"), ("refused", "refused"))}}


@dataclass
class Status:
    year: int
    deadline: dt.date
    today: dt.date
    provinces: list[ProvinceStatus]
    unidentified: list[FileRecord]

    def _count(self, *states: str) -> list[ProvinceStatus]:
        return [s for s in self.provinces if s.status in states]

    @property
    def expected(self) -> int:
        return len(self.provinces)

    @property
    def received(self) -> list[ProvinceStatus]:
        return [s for s in self.provinces if s.rounds]

    @property
    def accepted(self) -> list[ProvinceStatus]:
        return self._count("accepted", "warnings", "approved")

    @property
    def approved(self) -> list[ProvinceStatus]:
        return self._count("approved")

    @property
    def missing(self) -> list[ProvinceStatus]:
        return self._count("missing", "rejected")

    @property
    def late(self) -> list[ProvinceStatus]:
        """Accepted after the deadline, or still without an accepted file once the deadline has passed."""
        past = self.today > self.deadline
        return [s for s in self.provinces if s.on_time is False or (s.used is None and past)]

    @property
    def reporting_rate(self) -> float:
        return len(self.accepted) / self.expected if self.expected else 0.0

    @property
    def on_time_rate(self) -> float:
        return sum(bool(s.on_time) for s in self.provinces) / self.expected if self.expected else 0.0

    def as_dict(self) -> dict:
        return {"year": self.year, "deadline": self.deadline.isoformat(), "expected": self.expected,
                "received": len(self.received), "accepted": len(self.accepted), "approved": len(self.approved),
                "missing": len(self.missing), "late": len(self.late),
                "reporting_rate": round(self.reporting_rate, 4), "on_time_rate": round(self.on_time_rate, 4),
                "unidentified_files": [f.stored for f in self.unidentified],
                "provinces": [s.as_dict() for s in self.provinces]}


def _review_key(province: str, f: Finding) -> tuple:
    return (province, f.code, f.sheet, f.cell, f.field)


def cross_warnings(col: Collection, used: list[FileRecord]) -> dict[int, list[Finding]]:
    """The checks across provinces (B02, ``batch.outlier_findings``) on the figures the register keeps of the files
    that count, by file id: the warnings the consolidation adds, known before it runs."""
    from libstats.checks.batch import outlier_findings

    usable = [r for r in used if r.province is not None and r.errors == 0]
    figures = col.register.figures([r.id for r in usable]) if usable else {}
    results = [CheckResult(str(col.inbox / r.stored), r.stored, year=col.year, province=col.province(r.province),
                           values=figures[r.id].get("values", {}),
                           sources={k: tuple(v) for k, v in figures[r.id].get("sources", {}).items()})
               for r in usable]
    return {usable[i].id: found for i, found in outlier_findings(results, build_form(col.year)).items()}


def _state(used: FileRecord | None, last: FileRecord | None, approved: bool) -> str:
    if approved:
        return "approved"
    if last is None:
        return "missing"
    return "rejected" if used is None else "accepted"


def collection_status(col: Collection, today: dt.date | None = None) -> Status:
    """Every expected province's status from the register (files dropped in the inbox picked up first)."""
    pick_up(col)
    reg = col.register
    files, approvals = reg.files(), reg.approvals()
    reviewed = {(r["province"], r["code"], r["sheet"], r["cell"], r["field"]) for r in reg.reviews()}
    by_id = {f.id: f for f in files}
    corrections = reg.corrections()
    picked = {}
    for p in col.provinces:
        own = [f for f in files if f.province == p.key]
        last = own[-1] if own else None
        used = by_id.get(approvals[p.key]) if p.key in approvals else (
            last if last is not None and last.verdict != "rejected" else None)
        picked[p.key] = (own, last, used)
    cross = cross_warnings(col, [used for _, _, used in picked.values() if used is not None])
    states = []
    for p in col.provinces:
        own, last, used = picked[p.key]
        state = _state(used, last, p.key in approvals)
        found = [*used.findings, *cross.get(used.id, ())] if used else []
        open_warnings = [f for f in found if f.severity == Severity.WARNING and f.code != "C02"
                         and _review_key(p.key, f) not in reviewed]
        if state == "accepted" and open_warnings:
            state = "warnings"
        on_time = None if used is None else used.received.astimezone(VN_TZ).date() <= col.deadline
        states.append(ProvinceStatus(p, state, len(own), last, used, on_time, open_warnings,
                                     [c for c in corrections if used and c["file_id"] == used.id], found))
    return Status(col.year, col.deadline, today or now_utc().astimezone(VN_TZ).date(), states,
                  [f for f in files if f.province is None])


# the Ministry's actions ----------------------------------------------------------------------------------------
def issue_links(col: Collection, scopes: list[str] | None = None) -> list[tuple[str, str, str]]:
    """New secret links (code, name, path) for the provinces and the Ministry; a reissued link replaces the
    old one, which stops working. Only the secrets' hashes are kept."""
    rows, issued = [], {}
    wanted = set(scopes) if scopes else None
    unknown = (wanted or set()) - {MINISTRY} - {p.key for p in col.provinces} - {p.code for p in col.provinces}
    if unknown:
        raise ValueError(f"không có tỉnh mã {', '.join(sorted(unknown))} trong danh mục năm {col.year}; không cấp "
                         "đường dẫn nào")
    for p in col.provinces:
        if wanted is None or p.key in wanted or p.code in wanted:
            issued[p.key] = secrets.token_urlsafe(32)
            rows.append((p.code, p.name, f"/t/{issued[p.key]}"))
    if wanted is None or MINISTRY in wanted:
        issued[MINISTRY] = secrets.token_urlsafe(32)
        rows.append(("BO", "Bộ Văn hóa, Thể thao và Du lịch", f"/bo/{issued[MINISTRY]}"))
    col.register.set_links(issued)
    return rows


def _used_file(col: Collection, key: str) -> FileRecord:
    st = next((s for s in collection_status(col).provinces if s.province.key == key), None)
    if st is None or st.used is None:
        raise ValueError("tỉnh chưa có báo cáo được chấp nhận")
    return st.used


def review_warning(col: Collection, file_id: int, index: int, note: str) -> Finding:
    """Mark the ``index``-th finding of a file (a warning; the file's own findings, then those of the checks
    across provinces, as ``ProvinceStatus.findings`` lists them) as reviewed with a note; it does not come back."""
    rec = col.register.file(file_id)
    note = note.strip()
    st = next((s for s in collection_status(col).provinces if s.used and s.used.id == file_id), None)
    found = st.findings if st else list(rec.findings) if rec else []
    if rec is None or rec.province is None or not 0 <= index < len(found):
        raise ValueError("không tìm thấy cảnh báo")
    f = found[index]
    if f.severity != Severity.WARNING:
        raise ValueError("chỉ cảnh báo mới được đánh dấu đã xem")
    if not note:
        raise ValueError("hãy ghi chú vì sao cảnh báo được chấp nhận")
    col.register.review(rec.province, file_id, f, note[:2000])
    return f


def approve(col: Collection, key: str, note: str = "", file_id: int | None = None) -> FileRecord:
    """Approve (lock) the province's accepted file; later files are kept but do not replace it. With ``file_id``
    (the file the Ministry was shown), ValueError when another file counts now (a newer upload came in)."""
    used = _used_file(col, key)
    if file_id is not None and used.id != file_id:
        raise ValueError("tỉnh vừa gửi tệp khác; hãy xem lại trước khi duyệt")
    if not col.register.approve(key, used.id, note):
        raise ValueError("báo cáo của tỉnh đã được duyệt")
    return used


def reopen(col: Collection, key: str, note: str = "") -> None:
    if not col.register.reopen(key, note):
        raise ValueError("báo cáo của tỉnh chưa được duyệt")


def decide_correction(col: Collection, correction_id: int, accepted: bool, note: str = "") -> dict:
    """Accept or refuse a province's correction of a last-year figure (the Ministry's decision, with a note)."""
    row = col.register.decide_correction(correction_id, accepted, note.strip()[:2000])
    if row is None:
        raise ValueError("không tìm thấy đề nghị đính chính")
    return row


def accepted_corrections(col: Collection) -> list[dict]:
    """The accepted corrections in the files that count, each with its province code, file, sheet and cell."""
    used = {s.used.id: s.used for s in collection_status(col).provinces if s.used is not None}
    out = []
    for c in col.register.corrections(list(used)):
        if c["decision"] == "accepted":
            value = int(c["corrected"]) if float(c["corrected"]).is_integer() else c["corrected"]
            out.append(c | {"corrected": value, "province_code": c["province"].split(":")[1],
                            "file": used[c["file_id"]].stored})
    return out


def apply_corrections(tidy, corrections: list[dict]):
    """This year's tidy data with the accepted corrections as the N-1 figures; each corrected row names the
    correction's file, sheet and cell as its source (so the summary's N-1 and its changes use them)."""
    out = tidy.copy()
    for c in corrections:
        rows = (out["field_id"] == c["field"]) & (out["province_code"] == c["province_code"])
        out.loc[rows, "value"] = c["corrected"]
        if "status" in out:
            out.loc[rows, "status"] = ""
        out.loc[rows, ["source_file", "sheet", "cell"]] = [c["file"], c["sheet"], c["cell"]]
    return out


def corrected_previous(col: Collection, previous: Path) -> Path:
    """Last year's dataset with the accepted corrections applied, each changed row saying what it replaced
    and where the correction came from; written to summary/ and returned."""
    import pandas as pd

    from libstats.consolidation.dataset import load_dataset, write_dataset

    df = load_dataset(previous)
    code_list = build_form(col.year).code_list
    lists = set(df.loc[df["year"] == col.year - 1, "code_list"])
    if lists != {code_list}:  # a correction of a merged province cannot be split back onto its old provinces
        raise ValueError(f"bộ dữ liệu {previous} dùng danh mục tỉnh {', '.join(sorted(lists))}, còn các đính chính "
                         f"theo danh mục {code_list} của năm {col.year}: hãy chuyển bộ dữ liệu sang danh mục "
                         f"{code_list} trước (libstats rebase … --to {code_list})")
    df["corrected_from"], df["correction_source"] = pd.Series(pd.NA, index=df.index, dtype="Int64"), ""
    for c in accepted_corrections(col):
        rows = ((df["province_code"] == c["province_code"]) & (df["code_list"] == code_list)
                & (df["indicator"] == c["indicator"]) & (df["dim"] == c["dim"]) & (df["year"] == col.year - 1))
        df.loc[rows, "corrected_from"] = df.loc[rows, "value"]
        df.loc[rows, "value"] = c["corrected"]
        df.loc[rows, "status"] = ""
        df.loc[rows, "correction_source"] = f"{c['file']} · {c['sheet']}!{c['cell']}"
    return write_dataset(df, col.summary / f"du-lieu-{col.year - 1}-da-dinh-chinh.csv")


def reviewed_warnings(root: Path) -> list[dict]:
    """The warnings the Ministry reviewed (province, code, sheet, cell, message, note, when), for the summary;
    [] when ``root`` is not a collection folder."""
    path = Path(root) / REGISTER_NAME
    return Register(path).reviews() if path.is_file() else []


def is_collection(inputs) -> bool:
    """True when the inputs are one collection folder (a folder with a register)."""
    return len(inputs) == 1 and (Path(inputs[0]) / REGISTER_NAME).is_file()


_NOT_REGISTERED = ("tệp hoặc thư mục ẩn (tên bắt đầu bằng dấu chấm), không có trong sổ đăng ký của đợt thu thập: "
                   "không tổng hợp")


def _by_register(col: Collection, st: Status, ledger: list) -> list:
    """The ledger with the register's choice of each province's file (the approved one, else the latest) and the
    register's own findings (C01, C02; an upload's name is libstats', so no I05)."""
    from libstats.consolidation.ledger import Entry, _first_error

    records, approvals = {r.stored: r for r in col.register.files()}, col.register.approvals()
    counted = {s.province.key: (s.used or s.last) for s in st.provinces if s.last is not None}
    out = []
    for e in ledger:
        rec = records.get(e.result.display)
        if rec is None and e.status != "set_aside":  # hidden (pick_up leaves them): never counted, always listed
            out.append(Entry(e.result, "set_aside", _NOT_REGISTERED, added=e.added))
            continue
        if e.status == "set_aside":
            out.append(e)
            continue
        own = list(e.result.findings)
        if any(f.code == "F09" for f in rec.findings):  # the register's check did not end: this one counts
            extra, hidden = [], []
        else:  # what the register withdrew (a name's I05) stays hidden; a new check's error never is
            extra = [f for f in rec.findings if f not in own]
            hidden = [f for f in own if f not in rec.findings and f.severity != Severity.ERROR]
        chosen = counted.get(rec.province) if rec.province else None
        refused = any(f.severity == Severity.ERROR for f in [*own, *extra] if f not in hidden)
        if chosen is None or e.result.province is None:  # a file not read as a province's return is never used
            out.append(Entry(e.result, e.status, e.reason, added=[*e.added, *extra], hidden=hidden))
        elif chosen.id == rec.id:
            out.append(Entry(e.result, "chosen", _first_error(e.result), added=extra, hidden=hidden))
        else:
            approved = " (đã duyệt)" if rec.province in approvals else ""
            reason = f"{chosen.stored}{approved}"
            fate, why = ("rejected", _first_error(e.result)) if refused else ("superseded", reason)  # its own first
            out.append(Entry(e.result, fate, why,
                             added=[make("L01", file=e.result.display, detail=reason), *extra], hidden=hidden))
    return out


PREVIOUS_DIR = "previous"  # DIR/previous/: last year's dataset, given at ``collect init --previous`` or put there


def previous_dataset(col: Collection) -> Path | None:
    """Last year's dataset of the collection: the one CSV in DIR/previous/ (None when there is none), which the
    check, the consolidation and the Ministry's page compare with. ValueError when there are several."""
    found = sorted((col.root / PREVIOUS_DIR).glob("*.csv"))
    if len(found) > 1:
        raise ValueError(f"thư mục {col.root / PREVIOUS_DIR} có {len(found)} tệp CSV: hãy để lại đúng một bộ dữ "
                         "liệu năm trước")
    return found[0] if found else None


def keep_previous(root: Path, year: int, previous: Path) -> Path:
    """Copy last year's dataset (and its datapackage.json) into DIR/previous/, once read and found to be of
    ``year - 1``; ValueError, before anything is copied, when it is not such a dataset."""
    from libstats.consolidation.datapackage import DESCRIPTOR, check_report_year
    from libstats.consolidation.dataset import load_dataset

    check_report_year(previous, load_dataset(previous, None, year - 1), year - 1)
    folder = Path(root) / PREVIOUS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.csv"):
        old.unlink()
    shutil.copyfile(previous, folder / Path(previous).name)
    if (described := Path(previous).with_name(DESCRIPTOR)).is_file():
        shutil.copyfile(described, folder / DESCRIPTOR)
    return folder / Path(previous).name


def review_collection(col: Collection, spec=None, previous: Path | None = None, limits=None,
                      progress=lambda it: it):
    """The review of a collection folder's inbox (``review.review_inbox``) with the register deciding: the file
    that counts for each province is the register's (approved, locked; else the latest), warnings the Ministry
    reviewed do not come back (kept in ``Entry.reviewed`` with their note), the register's own findings are kept,
    and the accepted corrections of last year's figures come with it (``Review.corrections``). ``previous``:
    last year's dataset, by default the collection's own (``previous_dataset``)."""
    from libstats.consolidation.review import review_inbox

    previous = previous or previous_dataset(col)
    st = collection_status(col)  # files dropped by hand are checked and recorded first
    rv = review_inbox([col.inbox], col.year, spec, previous, limits, progress,
                      choose=lambda ledger: _by_register(col, st, ledger), conversions=col.conversions)
    reviews = col.register.reviews()
    notes = {(r["province"], r["code"], r["sheet"], r["cell"], r["field"]): r["note"] for r in reviews}
    for e in rv.ledger:
        key = e.result.province.key if e.result.province else None
        if key is not None:
            e.reviewed = [(f, notes[_review_key(key, f)]) for f in e.findings
                          if f.severity == Severity.WARNING and _review_key(key, f) in notes]
    rv.collection, rv.reviewed, rv.corrections = st, reviews, accepted_corrections(col)
    ids = {r.stored: r.id for r in col.register.files()}
    decisions = {(c["file_id"], c["field"]): c["decision"] for c in col.register.corrections()}
    rv.requested = [c.decided(decisions.get((ids.get(c.result.display), c.row.p.id))) for c in rv.requested]
    return rv


def consolidate_collection(col: Collection, spec=None, previous: Path | None = None, limits=None,
                           progress=lambda it: it):
    """The consolidation of the files that count in a collection, with the accepted corrections applied as the
    N-1 figures (each corrected row names the correction's file, sheet and cell)."""
    from libstats.consolidation.consolidate import consolidate_review

    rv = review_collection(col, spec, previous, limits, progress)
    con = consolidate_review(rv)
    return dataclasses.replace(con, tidy=apply_corrections(con.tidy, rv.corrections))


class WrongCollectionYear(ValueError):
    """``--year`` asks for another year than the collection folder's: a mistyped command."""


def _collection_for(inputs, year: int | None) -> Collection | None:
    """The collection the inputs are (one folder with a register), refused when ``year`` is another; else None."""
    if not is_collection(inputs):
        return None
    col = open_collection(inputs[0])
    if year is not None and year != col.year:
        raise WrongCollectionYear(f"thư mục {inputs[0]} là đợt thu thập năm {col.year}, không phải năm {year} "
                                  "(--year)")
    return col


def review_inputs(inputs, year: int | None, spec=None, previous: Path | None = None, progress=lambda it: it):
    """The review of what ``check`` was given: a collection folder (its register deciding, its last year's
    dataset by default) or files and folders of returns (a plain inbox)."""
    from libstats.consolidation.review import review_inbox

    col = _collection_for(inputs, year)
    if col is not None:
        return review_collection(col, spec, previous, progress=progress)
    return review_inbox(list(inputs), year, spec, previous, progress=progress)


def consolidate_inputs(inputs, year: int, spec=None, previous: Path | None = None, progress=lambda it: it):
    """The consolidation of what ``consolidate`` was given: a collection folder or a plain inbox (as
    ``review_inputs``), and the last year's dataset it was compared with (None: none)."""
    from libstats.consolidation.consolidate import consolidate

    col = _collection_for(inputs, year)
    if col is not None:
        previous = previous or previous_dataset(col)
        return consolidate_collection(col, spec, previous, progress=progress), previous
    return consolidate(list(inputs), year, previous, spec, progress=progress), previous


def run_consolidation(col: Collection):
    """Consolidate the files that count (approved or accepted) into summary/, compared with the collection's last
    year's dataset (``previous_dataset``), exactly as ``libstats consolidate DIR`` does; returns the
    (workbook, dataset). NothingToPublish when no return is accepted, OutputError when an output
    cannot be written (in both cases nothing is replaced)."""
    from libstats.outputs.publish import publish

    previous = previous_dataset(col)
    con = consolidate_collection(col, previous=previous)
    done = publish(con, col.summary / f"tong-hop-{col.year}.xlsx", previous)
    return done.summary, done.dataset


def consolidation_notice(col: Collection) -> str:
    """Run the consolidation for the Ministry's button and say how it went, whatever happens: "tong-hop" (done),
    "tong-hop-trong" (no accepted return), "tong-hop-ghi" (an output could not be written), "tong-hop-dau-vao"
    (an input refused: last year's dataset, the inbox's year) or "tong-hop-loi" (anything else, logged with its
    traceback); in no case is an output replaced by a partial one."""
    import logging

    from libstats.outputs.publish import NothingToPublish, OutputError

    try:
        run_consolidation(col)
    except NothingToPublish:
        return "tong-hop-trong"
    except OutputError as exc:
        logging.getLogger("libstats").error("%s", exc)
        return "tong-hop-ghi"
    except ValueError as exc:  # the library's own Vietnamese refusal (last year's dataset, the inbox's year)
        logging.getLogger("libstats").error("%s", exc)
        return "tong-hop-dau-vao"
    except Exception:  # noqa: BLE001 - the page says so in Vietnamese; the log keeps the traceback
        logging.getLogger("libstats").exception("tổng hợp không chạy được")
        return "tong-hop-loi"
    return "tong-hop"
