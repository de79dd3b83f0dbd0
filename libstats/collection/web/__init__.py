"""The collection's web pages: a province's own page (blank form, upload checked at once, findings, feedback,
rounds) and the Ministry's page (status, rates, warnings to review, approve/reopen, consolidation)."""

from libstats.collection.web.app import Limits, create_app

__all__ = ["create_app", "Limits"]
