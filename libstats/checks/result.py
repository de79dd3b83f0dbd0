"""The result of checking one returned file: what it is, what it says, and the findings met on the way.

Made by ``check.check_file`` and read by every later stage (review, ledger, dataset, feedback, summary); no
later stage changes it (batch findings live beside it, in ``review.FileReview``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from libstats.model.findings import Finding, Judged
from libstats.model.provinces import Province

__all__ = ["CheckResult"]


@dataclass
class CheckResult(Judged):
    path: str
    display: str  # the name findings and tables show (relative to the inbox)
    size: int = 0
    mtime: float = 0.0
    sha256: str = ""
    kind: str = ""
    form_id: str = ""
    version: str = ""
    year: int | None = None
    province: Province | None = None
    generated: str = ""
    spec_sha256: str = ""  # of the spec the template was made from
    saved: str = ""  # when the province last saved the file (from the file's own properties)
    values: dict[str, object] = field(default_factory=dict)
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"file": self.display, "path": self.path, "sha256": self.sha256, "kind": self.kind,
                "form": self.form_id, "version": self.version, "spec_sha256": self.spec_sha256,
                "year": self.year, "saved": self.saved,
                "province": self.province.key if self.province else None,
                "province_name": self.province.name if self.province else None,
                "verdict": self.verdict.value, "errors": self.errors, "warnings": self.warnings,
                "findings": [f.as_dict() for f in self.findings]}
