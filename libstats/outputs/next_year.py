"""From one year to the next: next year's forms prefilled with last year's dataset, a dataset moved onto a new
list of provinces (the rules are ``consolidation.rollover``'s)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from libstats.consolidation.dataset import load_dataset, write_dataset
from libstats.consolidation.rollover import carry_map, previous_year_prefill, rebase_frame
from libstats.forms.template import TemplateOptions
from libstats.model.form import Form
from libstats.model.provinces import Province
from libstats.model.spec import Spec, default_spec

__all__ = ["template_prefill", "rebase_dataset"]


def template_prefill(form: Form, previous: Path) -> tuple[Callable[[Province | None], TemplateOptions], list[str]]:
    """The ``write_templates`` prefill of ``form``'s N−1 column from last year's dataset ``previous`` (each
    province's accepted figures, locked, a note on each), and the notes for the user about the dataset.
    ValueError when ``previous`` is not a dataset of year ``form.year - 1``."""
    last_year = load_dataset(previous, form.spec, form.year - 1)
    figures = previous_year_prefill(form, last_year)

    def prefill(p: Province | None) -> TemplateOptions:
        return TemplateOptions(**vars(figures(p)))

    return prefill, list(last_year.attrs["notes"])


def rebase_dataset(dataset: Path, to_list: str, output: Path, spec: Spec | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Move ``dataset`` onto the code list ``to_list`` with ``spec``'s carried levels and write it to
    ``output``; returns (the dataset read, the dataset written, notes for the user)."""
    spec = spec or default_spec()
    df = load_dataset(dataset, spec)
    out = rebase_frame(df, to_list, carry_map(spec, int(to_list)))
    write_dataset(out, output, spec)
    return df, out, list(df.attrs["notes"])
