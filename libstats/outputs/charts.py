"""Charts of the national report: one headline indicator by level and by region, this year beside last year.

Drawn with matplotlib's Agg backend (no display), imported only when a report is written. The PNG carries no
date or software stamp, so the same figures give the same bytes (the report's .docx stays stable).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from libstats.model.findings import fmt_number

__all__ = ["Bars", "headline_chart"]


@dataclass(frozen=True)
class Bars:
    """One panel: a title and (label, year N value, year N−1 value or None) per bar group."""

    title: str
    groups: list[tuple[str, int, int | None]]


def _scale(top: float, unit: str) -> tuple[float, str]:
    """The axis' divisor and its label: millions or thousands of the unit when the bars are that tall."""
    if top >= 2_000_000:
        return 1e6, f"triệu {unit}"
    if top >= 20_000:
        return 1e3, f"nghìn {unit}"
    return 1, unit


def _tick(v: float) -> str:
    return fmt_number(int(v)) if float(v).is_integer() else f"{v:.1f}".replace(".", ",")


def headline_chart(panels: list[Bars], year: int, unit: str, width_mm: float = 165, height_mm: float = 70) -> bytes:
    """A PNG of ``panels`` side by side; in each, year N−1 and year N bars per group, values in ``unit``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import FuncFormatter

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 7, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.hashsalt": "libstats"})
    widths = [max(2, len(p.groups)) for p in panels]
    fig, axes = plt.subplots(1, len(panels), figsize=(width_mm / 25.4, height_mm / 25.4), dpi=150,
                             gridspec_kw={"width_ratios": widths}, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        xs = range(len(panel.groups))
        prev = [p if p is not None else 0 for _, _, p in panel.groups]
        ax.bar([x - 0.2 for x in xs], prev, 0.4, label=f"Năm {year - 1}", color="#b0b7c3")
        ax.bar([x + 0.2 for x in xs], [n for _, n, _ in panel.groups], 0.4, label=f"Năm {year}", color="#1f4e79")
        ax.set_xticks(list(xs), [label for label, _, _ in panel.groups], fontsize=6 if len(xs) > 3 else 7)
        div, label = _scale(max([n for _, n, _ in panel.groups] + prev + [1]), unit)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _, d=div: _tick(v / d)))
        ax.set_title(panel.title, fontsize=8, y=1.0)  # y given: no search of the tick labels for room above
        ax.set_ylabel(label)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=2, frameon=False, fontsize=7)  # above, never on a bar
    fig.subplots_adjust(left=0.08, right=0.99, top=0.84, bottom=0.22, wspace=0.25)  # fixed: no layout search
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
