"""A headless LibreOffice for the tests and benchmarks: started once, driven through tests/lo/uno_fill.py (its
own Python, with python3-uno); and what a person types into it. A helper module, not a test file."""

from __future__ import annotations

import datetime as dt
import json
import select
import shutil
import subprocess
import uuid
from pathlib import Path

HERE = Path(__file__).parent
SYSTEM_PYTHON = "/usr/bin/python3"


def typed_values(values: dict) -> dict:
    """What a person types: numbers and text (the date as text, as typed into the cell)."""
    out = {k: v for k, v in values.items() if not isinstance(v, dt.date)}
    out["bia_ngay"] = values["bia_ngay"].strftime("%d/%m/%Y")
    return out


def lo_missing_reason() -> str | None:
    if not shutil.which("soffice"):
        return "LibreOffice (soffice) is not installed"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True) if Path(
        SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        return "python3-uno is not installed for /usr/bin/python3"
    return None


_FILTERS = {"pdf": "pdf", "xls": "MS Excel 97", "ods": "calc8"}


class LibreOffice:
    """A headless LibreOffice with its own profile, driven through tests/lo/uno_fill.py."""

    def __init__(self, workdir: Path, answer_within: float = 1800):
        self.workdir, self.answer_within = workdir, answer_within  # a guard against a hang, not a measure
        self.pipe = f"libstats_{uuid.uuid4().hex[:8]}"
        profile = workdir / "profile"
        self.proc = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore", "--nodefault", "--nologo",
             f"-env:UserInstallation={profile.as_uri()}", f"--accept=pipe,name={self.pipe};urp;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._jobs = 0
        self._client: subprocess.Popen | None = None

    def _ask(self, job: Path, result: Path) -> str:
        """The session's UNO client runs the job (started on first use, again if it died): its answer line."""
        for _ in range(2):  # the client may have died of a signal while its bridge shut down: once more
            if self._client is None:
                with (self.workdir / "client.log").open("ab") as log:
                    self._client = subprocess.Popen(
                        [SYSTEM_PYTHON, str(HERE / "lo" / "uno_fill.py"), self.pipe, "--serve"],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
            try:
                self._client.stdin.write(f"{job}\t{result}\n")
                self._client.stdin.flush()
                ready, _, _ = select.select([self._client.stdout], [], [], self.answer_within)
                answer = self._client.stdout.readline() if ready else f"error: no answer in {self.answer_within} s"
            except OSError:  # a broken pipe: the client is gone
                answer = ""
            if answer:
                return answer.rstrip("\n")
            self._stop_client()
        return "error: the UNO client died twice (see client.log)"

    def _stop_client(self):
        client, self._client = self._client, None
        if client is None:
            return
        try:
            client.stdin.close()  # the client's loop ends
        except OSError:
            pass
        try:
            client.wait(timeout=20)
        except subprocess.TimeoutExpired:
            client.kill()
            client.wait()
        client.stdout.close()

    def fill(self, src: Path, dst: Path | None = None, values: dict | None = None, read_names=(),
             read_cells=(), export_filter: str | None = None) -> dict:
        self._jobs += 1
        job = self.workdir / f"job{self._jobs}.json"
        result = self.workdir / f"result{self._jobs}.json"
        job.write_text(json.dumps({"input": str(src), "output": str(dst) if dst else None, "values": values or {},
                                   "filter": export_filter, "read_names": list(read_names),
                                   "read_cells": [list(c) for c in read_cells]}, ensure_ascii=False),
                       encoding="utf-8")
        result.unlink(missing_ok=True)
        answer = self._ask(job, result)
        assert answer == "ok", answer.replace("\\n", "\n")
        return json.loads(result.read_text(encoding="utf-8"))

    def convert(self, src: Path, fmt: str, outdir: Path) -> Path:
        """What ``soffice --convert-to fmt`` writes (pdf, xls, ods), by the running instance (no start-up)."""
        out = outdir / (src.stem + "." + fmt)
        self.fill(src, out, export_filter=_FILTERS[fmt])
        assert out.exists(), f"LibreOffice did not write {out}"
        return out

    def close(self):
        self._stop_client()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
