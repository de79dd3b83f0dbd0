"""The collection register: one SQLite database per collection folder (stdlib sqlite3, no server).

It records every file received (name as sent, name stored, hash, when, channel, province, round, verdict,
findings), the Ministry's actions on provinces (approve, reopen), on warnings (reviewed, with a note) and on
corrections of last year's figures (accepted or refused), and the hashes of the secret links. Secrets
themselves are never stored. Every call opens its own short connection, so the web server's threads and a
command run beside it can share the file (WAL mode).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from libstats.model.findings import Finding, Severity

__all__ = ["Register", "FileRecord", "REGISTER_NAME", "NOT_RECEIVED", "now_utc", "secret_hash"]

REGISTER_NAME = "register.sqlite"
NOT_RECEIVED = "not_received"  # the verdict of a row whose file never arrived whole: never counted, never shown
_SHOWN = f"verdict IS NOT NULL AND verdict != '{NOT_RECEIVED}'"
_MAX_ID = 2**63 - 1  # SQLite's largest integer: an id beyond it (from a URL) is no row, not an overflow

_SCHEMA = """
CREATE TABLE IF NOT EXISTS collection (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS links (
    scope TEXT PRIMARY KEY,           -- a province key ('2004:01') or 'ministry'
    secret_hash TEXT NOT NULL UNIQUE, -- sha256 of the secret; the secret itself is never stored
    issued TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    stored TEXT NOT NULL UNIQUE,      -- the name in inbox/ (chosen by libstats for uploads)
    sent_name TEXT NOT NULL,          -- the name as sent (shown, never used as a path)
    sha256 TEXT NOT NULL DEFAULT '',
    size INTEGER NOT NULL DEFAULT 0,
    received TEXT NOT NULL,           -- ISO time, UTC
    channel TEXT NOT NULL,            -- 'inbox' (dropped by hand, e-mail) or 'upload' (the province's page)
    province TEXT,                    -- province key, NULL when not identified
    round INTEGER,                    -- the province's n-th file
    verdict TEXT,                     -- NULL while being checked
    errors INTEGER NOT NULL DEFAULT 0,
    warnings INTEGER NOT NULL DEFAULT 0,
    findings TEXT NOT NULL DEFAULT '[]',
    feedback TEXT,                    -- name of the feedback workbook in feedback/
    figures TEXT NOT NULL DEFAULT '{}');  -- the values read and where (for the checks across provinces)
CREATE TABLE IF NOT EXISTS approvals (
    province TEXT PRIMARY KEY, file_id INTEGER NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS reviews (
    id INTEGER PRIMARY KEY, province TEXT NOT NULL, code TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL,
    field TEXT NOT NULL, message TEXT NOT NULL, note TEXT NOT NULL, at TEXT NOT NULL, file_id INTEGER NOT NULL,
    UNIQUE (province, code, sheet, cell, field));
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY, at TEXT NOT NULL, province TEXT, action TEXT NOT NULL, note TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, province TEXT NOT NULL,
    field TEXT NOT NULL,              -- the N-1 field corrected ('..._p')
    indicator TEXT NOT NULL, dim TEXT NOT NULL, label TEXT NOT NULL,
    reported REAL, corrected REAL NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL,
    decision TEXT,                    -- NULL (to decide), 'accepted' or 'refused'
    note TEXT NOT NULL DEFAULT '', decided TEXT,
    UNIQUE (file_id, field));
CREATE TABLE IF NOT EXISTS csrf (
    token_hash TEXT PRIMARY KEY, scope TEXT NOT NULL, expires TEXT NOT NULL);
"""


_ADD_CORRECTION = ("INSERT OR IGNORE INTO corrections (file_id, province, field, indicator, dim, label, reported, "
                   "corrected, sheet, cell) VALUES (:file_id, :province, :field, :indicator, :dim, :label, :reported, "
                   ":corrected, :sheet, :cell)")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _row_id(n: int) -> bool:
    return 0 < n <= _MAX_ID


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class FileRecord:
    id: int
    stored: str
    sent_name: str
    sha256: str
    size: int
    received: dt.datetime
    channel: str
    province: str | None
    round: int | None
    verdict: str | None
    errors: int
    warnings: int
    findings: tuple[Finding, ...]
    feedback: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> FileRecord:
        found = tuple(Finding(d["code"], Severity(d["severity"]), d["message"], d.get("file", ""), d.get("sheet", ""),
                              d.get("cell", ""), d.get("field", "")) for d in json.loads(row["findings"]))
        return cls(row["id"], row["stored"], row["sent_name"], row["sha256"], row["size"],
                   dt.datetime.fromisoformat(row["received"]), row["channel"], row["province"], row["round"],
                   row["verdict"], row["errors"], row["warnings"], found, row["feedback"])


class _Store:
    """The register's file: short connections, one transaction each, WAL so that readers never wait."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @contextmanager
    def db(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.row_factory = sqlite3.Row
        try:
            con.execute("PRAGMA busy_timeout = 30000")
            con.execute("PRAGMA synchronous = NORMAL")  # WAL: durable at checkpoints, never corrupt
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise
        finally:
            con.close()

    def create(self, settings: dict[str, str]) -> None:
        con = sqlite3.connect(self.path)
        try:
            con.execute("PRAGMA journal_mode = WAL")
            con.executescript(_SCHEMA)
            con.executemany("INSERT OR REPLACE INTO collection VALUES (?, ?)", settings.items())
            con.commit()
        finally:
            con.close()

    def upgrade(self) -> None:
        """Add the tables and columns a newer libstats keeps to a register made by an older one (nothing is
        removed)."""
        con = sqlite3.connect(self.path)
        try:
            con.executescript(_SCHEMA)
            if "figures" not in {r[1] for r in con.execute("PRAGMA table_info(files)")}:
                con.execute("ALTER TABLE files ADD COLUMN figures TEXT NOT NULL DEFAULT '{}'")
        finally:
            con.close()

    def settings(self) -> dict[str, str]:
        with self.db() as con:
            return {r["key"]: r["value"] for r in con.execute("SELECT key, value FROM collection")}


def _renumber(con: sqlite3.Connection, province: str | None) -> None:
    """The province's rounds in the order its files were received (their ids), failed receptions left out."""
    if province is None:
        return
    con.execute(f"UPDATE files SET round = (SELECT COUNT(*) FROM files AS f WHERE f.province = files.province "
                f"AND f.verdict IS NOT NULL AND f.verdict != '{NOT_RECEIVED}' AND f.id <= files.id) "
                f"WHERE province = ? AND {_SHOWN}", (province,))


class _Files(_Store):
    """The files received: a row is added only once its file is whole in the inbox, then its check recorded."""

    def receive(self, stored: str, sent_name: str, channel: str, province: str | None,
                place: Callable[[], None] | None = None) -> int | None:
        """The row of a file whole in the inbox, to be checked; None when the stored name is already known.
        ``place`` (putting the file into the inbox) runs inside the same transaction, before the row is added: no
        other process picks the file up in between as one dropped by hand."""
        with self.db() as con:
            if place is not None:
                place()
            cur = con.execute("INSERT OR IGNORE INTO files (stored, sent_name, received, channel, province) "
                              "VALUES (?, ?, ?, ?, ?)", (stored, sent_name, now_utc().isoformat(), channel, province))
            return cur.lastrowid if cur.rowcount == 1 else None

    def stale(self, before: dt.datetime) -> list[sqlite3.Row]:
        """Files received before ``before`` whose check never ended (the process checking them stopped)."""
        with self.db() as con:
            return con.execute("SELECT id, stored, channel, province FROM files WHERE verdict IS NULL AND received < ? "
                               "ORDER BY id", (before.isoformat(),)).fetchall()

    def known(self) -> set[str]:
        with self.db() as con:
            return {r[0] for r in con.execute("SELECT stored FROM files")}

    def stored_names(self) -> dict[int, str]:
        """Every row that may count (not a failed reception), by id: its stored name."""
        with self.db() as con:
            return {r[0]: r[1] for r in con.execute(
                f"SELECT id, stored FROM files WHERE verdict IS NULL OR verdict != '{NOT_RECEIVED}'")}

    def not_received(self, file_ids: list[int]) -> None:
        """Mark rows whose file is not in the inbox as failed receptions: never counted, no round."""
        with self.db() as con:
            provinces = {r[0] for r in con.execute(
                f"SELECT DISTINCT province FROM files WHERE id IN ({','.join('?' * len(file_ids))})", file_ids)}
            con.executemany("UPDATE files SET verdict = ?, round = NULL WHERE id = ?",
                            [(NOT_RECEIVED, i) for i in file_ids])
            for p in provinces:
                _renumber(con, p)

    def failed_receptions(self) -> int:
        with self.db() as con:
            return con.execute("SELECT COUNT(*) FROM files WHERE verdict = ?", (NOT_RECEIVED,)).fetchone()[0]

    def record(self, file_id: int, *, sha256: str, size: int, province: str | None, verdict: str,
               findings: list[Finding], feedback: str | None, corrections: list[dict] = (),
               figures: dict | None = None) -> FileRecord:
        """Store a file's check (and the corrections it asks for); rounds follow the order files were received."""
        errors = sum(f.severity == Severity.ERROR for f in findings)
        warnings = sum(f.severity == Severity.WARNING for f in findings)
        with self.db() as con:
            before = con.execute("SELECT province FROM files WHERE id = ?", (file_id,)).fetchone()
            con.execute("UPDATE files SET sha256=?, size=?, province=?, verdict=?, errors=?, warnings=?, "
                        "findings=?, feedback=?, figures=? WHERE id=?",
                        (sha256, size, province, verdict, errors, warnings,
                         json.dumps([f.as_dict() for f in findings], ensure_ascii=False), feedback,
                         json.dumps(figures or {}, ensure_ascii=False, default=str), file_id))
            for p in {before[0] if before else None, province}:
                _renumber(con, p)
            con.executemany(_ADD_CORRECTION, corrections)
            return FileRecord.from_row(con.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone())

    def set_feedback(self, file_id: int, name: str) -> None:
        with self.db() as con:
            con.execute("UPDATE files SET feedback = ? WHERE id = ?", (name, file_id))

    def files(self, province: str | None = None) -> list[FileRecord]:
        with self.db() as con:
            rows = con.execute(f"SELECT * FROM files WHERE {_SHOWN} AND (? IS NULL OR province = ?) ORDER BY id",
                               (province, province)).fetchall()
        return [FileRecord.from_row(r) for r in rows]

    def file(self, file_id: int) -> FileRecord | None:
        if not _row_id(file_id):
            return None
        with self.db() as con:
            row = con.execute(f"SELECT * FROM files WHERE id = ? AND {_SHOWN}", (file_id,)).fetchone()
        return FileRecord.from_row(row) if row else None

    def figures(self, file_ids: list[int]) -> dict[int, dict]:
        """The values each file's check read and where ({"values": …, "sources": …}), by id."""
        with self.db() as con:
            rows = con.execute(f"SELECT id, figures FROM files WHERE id IN ({','.join('?' * len(file_ids))})",
                               file_ids).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}


class _Decisions(_Store):
    """The Ministry's actions: approvals, reviewed warnings, decisions on corrections, and their events."""

    def approvals(self) -> dict[str, int]:
        with self.db() as con:
            return {r["province"]: r["file_id"] for r in con.execute("SELECT province, file_id FROM approvals")}

    def approve(self, province: str, file_id: int, note: str = "") -> bool:
        """Lock the province's file; False when it is already approved (two approvals at once: one wins)."""
        with self.db() as con:
            cur = con.execute("INSERT OR IGNORE INTO approvals VALUES (?, ?, ?, ?)",
                              (province, file_id, now_utc().isoformat(), note))
            if cur.rowcount:
                con.execute("INSERT INTO events (at, province, action, note) VALUES (?, ?, 'approve', ?)",
                            (now_utc().isoformat(), province, f"tệp #{file_id}"))
            return bool(cur.rowcount)

    def reopen(self, province: str, note: str = "") -> bool:
        with self.db() as con:
            cur = con.execute("DELETE FROM approvals WHERE province = ?", (province,))
            if cur.rowcount:
                con.execute("INSERT INTO events (at, province, action, note) VALUES (?, ?, 'reopen', ?)",
                            (now_utc().isoformat(), province, note))
            return bool(cur.rowcount)

    def review(self, province: str, file_id: int, f: Finding, note: str) -> None:
        with self.db() as con:
            con.execute("INSERT OR REPLACE INTO reviews (province, code, sheet, cell, field, message, note, at, "
                        "file_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (province, f.code, f.sheet, f.cell, f.field, f.message, note, now_utc().isoformat(), file_id))

    def reviews(self) -> list[dict]:
        with self.db() as con:
            return [dict(r) for r in con.execute("SELECT * FROM reviews ORDER BY province, id")]

    def events(self, province: str | None = None) -> list[dict]:
        with self.db() as con:
            rows = con.execute("SELECT * FROM events WHERE (? IS NULL OR province = ?) ORDER BY id",
                               (province, province))
            return [dict(r) for r in rows]

    def corrections(self, file_ids: list[int] | None = None) -> list[dict]:
        with self.db() as con:
            rows = [dict(r) for r in con.execute("SELECT * FROM corrections ORDER BY province, id")]
        return rows if file_ids is None else [r for r in rows if r["file_id"] in file_ids]

    def decide_correction(self, correction_id: int, accepted: bool, note: str) -> dict | None:
        if not _row_id(correction_id):
            return None
        with self.db() as con:
            cur = con.execute("UPDATE corrections SET decision = ?, note = ?, decided = ? WHERE id = ?",
                              ("accepted" if accepted else "refused", note, now_utc().isoformat(), correction_id))
            row = con.execute("SELECT * FROM corrections WHERE id = ?", (correction_id,)).fetchone()
            return dict(row) if cur.rowcount and row else None


class _Access(_Store):
    """Who may open what: the hashes of the secret links and the one-time form tokens."""

    def set_links(self, secrets_by_scope: dict[str, str]) -> None:
        """Store the hashes of new secrets; each replaces its scope's old one."""
        at = now_utc().isoformat()
        with self.db() as con:
            con.executemany("INSERT OR REPLACE INTO links VALUES (?, ?, ?)",
                            [(scope, secret_hash(secret), at) for scope, secret in secrets_by_scope.items()])
            con.executemany("INSERT INTO events (at, province, action) VALUES (?, ?, 'link')",
                            [(at, scope) for scope in secrets_by_scope])

    def scope_of(self, secret: str) -> str | None:
        """The scope a secret opens, or None; the hash is compared in constant time."""
        digest = secret_hash(secret)
        with self.db() as con:
            row = con.execute("SELECT scope, secret_hash FROM links WHERE secret_hash = ?", (digest,)).fetchone()
        if row is None or not hmac.compare_digest(row["secret_hash"], digest):
            return None
        return row["scope"]

    def issue_token(self, token: str, scope: str, expires: dt.datetime) -> None:
        with self.db() as con:
            con.execute("DELETE FROM csrf WHERE expires < ?", (now_utc().isoformat(),))
            con.execute("INSERT INTO csrf VALUES (?, ?, ?)", (secret_hash(token), scope, expires.isoformat()))

    def spend_token(self, token: str, scope: str) -> bool:
        """True once for a token issued to ``scope`` and not expired; a replay or a forged token is False."""
        with self.db() as con:
            cur = con.execute("DELETE FROM csrf WHERE token_hash = ? AND scope = ? AND expires >= ?",
                              (secret_hash(token), scope, now_utc().isoformat()))
            return cur.rowcount == 1


class Register(_Files, _Decisions, _Access):
    """The register of one collection folder: its files, the Ministry's decisions, and who may open what."""
