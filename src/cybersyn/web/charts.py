"""Charts drawn on the server as inline SVG: no script needed to read them.

`paired_bars` draws one row per item with two horizontal bars (e.g. a plan's target and its
planned net output), each row on its own scale (products have different units), so a row
shows the share of the target the plan meets. Pure functions from numbers to markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

ROW_PX = 26
LABEL_PX = 150
BAR_PX = 420
TEXT_PX = 250


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.3g}"


def bar_widths(a: float, b: float, width: float = BAR_PX) -> tuple[float, float]:
    """Pixel widths of two non-negative values drawn on their row's own scale (the larger
    fills `width`); (0, 0) when both are zero."""
    top = max(a, b, 0.0)
    if top <= 0:
        return 0.0, 0.0
    return width * max(a, 0.0) / top, width * max(b, 0.0) / top


def paired_bars(labels: Sequence[str], first: Sequence[float], second: Sequence[float], *,
                names: tuple[str, str] = ("target", "planned"), title: str = "") -> Markup:
    """An SVG of len(labels) rows, bars `first` (outlined) and `second` (filled) per row,
    each row scaled to its larger value, with the values and second/first in percent."""
    n = len(labels)
    if not (len(first) == len(second) == n):
        raise ValueError("Expected labels, first and second of the same length.")
    h = ROW_PX * n + 30
    w = LABEL_PX + BAR_PX + TEXT_PX
    out = [f'<svg class="bars" role="img" viewBox="0 0 {w} {h}" width="{w}" height="{h}" '
           f'aria-label="{escape(title or names[0] + " vs " + names[1])}">',
           f'<title>{escape(title)}</title>' if title else "",
           _legend(names)]
    for k, (label, a, b) in enumerate(zip(labels, first, second, strict=True)):
        out.append(_row(k, label, float(a), float(b)))
    out.append("</svg>")
    return Markup("".join(out))


def _legend(names: tuple[str, str]) -> str:
    x = LABEL_PX
    return (f'<rect x="{x}" y="4" width="14" height="10" class="b1"/>'
            f'<text x="{x + 18}" y="13">{escape(names[0])}</text>'
            f'<rect x="{x + 110}" y="4" width="14" height="10" class="b2"/>'
            f'<text x="{x + 128}" y="13">{escape(names[1])}</text>')


def _row(k: int, label: str, a: float, b: float) -> str:
    y = 24 + k * ROW_PX
    wa, wb = bar_widths(a, b)
    pct = f"{100 * b / a:.1f}%" if a > 0 else "—"
    short = " short" if a > 0 and b < a * (1 - 1e-7) else ""
    return (f'<g class="row{short}" data-label="{escape(label)}">'
            f'<text x="{LABEL_PX - 6}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{LABEL_PX}" y="{y + 2}" width="{wa:.1f}" height="9" class="b1"/>'
            f'<rect x="{LABEL_PX}" y="{y + 12}" width="{wb:.1f}" height="9" class="b2"/>'
            f'<text x="{LABEL_PX + BAR_PX + 8}" y="{y + 14}">{_fmt(b)} / {_fmt(a)} '
            f'({pct})</text></g>')
