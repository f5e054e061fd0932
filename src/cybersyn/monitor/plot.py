"""The monitor chart: series, forecast band, and the regime probabilities under it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from cybersyn.monitor.params import REGIMES


def plot_series(info: dict[str, Any], points: list[dict[str, Any]], out: Path) -> None:
    """Write a PNG of the points returned by `query.series_points`."""
    t = [datetime.fromisoformat(p["time"]) for p in points]
    fig, (ax, bx) = plt.subplots(2, 1, sharex=True, figsize=(10, 6),
                                 gridspec_kw={"height_ratios": [3, 1.4]})
    ax.fill_between(t, [p["lower"] for p in points], [p["upper"] for p in points],
                    color="tab:blue", alpha=0.2, label="95% forecast band")
    ax.plot(t, [p["forecast"] for p in points], color="tab:blue", lw=1, label="forecast")
    ax.plot(t, [p["value"] for p in points], "k.", ms=3, label="observed")
    ax.set_title(f"{info['name']} ({info['series_id']})")
    ax.set_ylabel(info["unit_of_measure"])
    ax.legend(loc="best", fontsize=8)
    bottom = [0.0] * len(points)
    for name in REGIMES:
        vals = [p[f"p_{name}"] for p in points]
        bx.bar(t, vals, bottom=bottom, width=0.9, label=name)
        bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
    bx.set_ylim(0, 1)
    bx.set_ylabel("P(regime)")
    bx.legend(loc="lower left", fontsize=7, ncol=4)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
