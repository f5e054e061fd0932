"""Charts drawn on the server as inline SVG: no script needed to read them.

`paired_bars` draws one row per item with two horizontal bars (e.g. a plan's target and its
planned net output), each row on its own scale (products have different units), so a row
shows the share of the target the plan meets. `route_svg` draws a stored delivery route
plan (depot, one closed path per truck, unserved points crossed). Pure functions from
numbers to markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

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


ROUTE_COLORS = ("#62b0ff", "#f0b429", "#3fb27f", "#c38cff", "#4dd0c8", "#ff8fb1", "#b5c75a",
                "#ff9f43", "#9cc9ff", "#e056fd")


def route_svg(plan: dict[str, Any], size: int = 440) -> Markup:
    """A stored route plan (supply `plans.get_plan`: locations with x_km/y_km, depot first;
    routes as lists of location ids; unserved ids) as SVG: one coloured closed path per
    truck from and back to the depot (square), unserved points as red crosses."""
    locs = {loc["id"]: (float(loc["x_km"]), float(loc["y_km"])) for loc in plan["locations"]}
    depot = plan["locations"][0]["id"]
    to_px = _projection(list(locs.values()), size)
    out = [f'<svg class="route-plot" role="img" viewBox="0 0 {size} {size}" width="{size}" '
           f'height="{size}" aria-label="{escape(_route_label(plan))}">'
           f'<title>{escape(_route_label(plan))}</title>']
    for k, route in enumerate(plan["routes"]):
        pts = " ".join("{:.1f},{:.1f}".format(*to_px(locs[i])) for i in [depot, *route, depot])
        color = ROUTE_COLORS[k % len(ROUTE_COLORS)]
        out.append(f'<polyline class="truck" points="{pts}" fill="none" stroke="{color}" '
                   f'stroke-width="1.5"><title>truck {k + 1}: {len(route)} stops</title>'
                   "</polyline>")
        out += [_dot(to_px(locs[i]), color) for i in route]
    out += [_cross(to_px(locs[i])) for i in plan["unserved"]]
    x, y = to_px(locs[depot])
    out.append(f'<rect class="depot" x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" '
               'fill="#e8eef5"/></svg>')
    return Markup("".join(out))


def _route_label(plan: dict[str, Any]) -> str:
    return (f"Route plan {plan['name']}: {plan['trucks_used']} trucks, "
            f"{plan['points_served']} points served, {plan['points_unserved']} not served")


def _projection(xy: list[tuple[float, float]], size: int,
                pad: float = 14.0) -> Callable[[tuple[float, float]], tuple[float, float]]:
    """Equal-aspect map from km to pixels (north up) fitting every point in the square."""
    xs, ys = [p[0] for p in xy], [p[1] for p in xy]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    scale = (size - 2 * pad) / span
    x0, y1 = min(xs), max(ys)
    return lambda p: (pad + (p[0] - x0) * scale, pad + (y1 - p[1]) * scale)


def _dot(p: tuple[float, float], color: str) -> str:
    return f'<circle cx="{p[0]:.1f}" cy="{p[1]:.1f}" r="2.5" fill="{color}"/>'


def _cross(p: tuple[float, float]) -> str:
    x, y = p
    return (f'<path class="unserved" d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}'
            f'M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}" stroke="#ef4e4e" '
            'stroke-width="2"/>')
