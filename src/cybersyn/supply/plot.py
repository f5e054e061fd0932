"""Route plots (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cybersyn.supply.routing import Routes


def save_route_plot(xy: np.ndarray, routes: Routes, path: str | Path, title: str = "",
                    labels: list[str] | None = None) -> Path:
    """Draw the depot (xy[0], square), points (dots, unserved as crosses) and one coloured
    line per truck; write a PNG to `path`. xy: ndarray (n+1, 2), e.g. km east/north."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = np.asarray(xy, dtype=float)
    fig, ax = plt.subplots(figsize=(7, 7), dpi=100)
    for k, r in enumerate(routes.routes):
        path_xy = xy[[0, *r, 0]]
        ax.plot(path_xy[:, 0], path_xy[:, 1], "-o", ms=3, lw=1.2, label=f"truck {k + 1}")
    if routes.unserved:
        u = xy[list(routes.unserved)]
        ax.plot(u[:, 0], u[:, 1], "x", color="crimson", ms=7, label="not served")
    ax.plot(xy[0, 0], xy[0, 1], "s", color="black", ms=10, label="depot")
    if labels:
        for (x, y), text in zip(xy, labels, strict=False):
            ax.annotate(text, (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
    ax.set_title(title or f"{routes.trucks_used} trucks, {len(routes.unserved)} points unserved")
    ax.set_aspect("equal", adjustable="datalim")
    if len(routes.routes) <= 12:
        ax.legend(fontsize=7, loc="best")
    out = Path(path)
    fig.savefig(out, bbox_inches="tight")
    plt.close(fig)
    return out
