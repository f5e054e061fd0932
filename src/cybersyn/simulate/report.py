"""Results of scenario runs: Parquet tables, PNG plots (matplotlib, Agg) and one HTML page
comparing every variant of every scenario side by side."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from cybersyn.simulate.run import ScenarioRun, shock_window

_DAY_MONTH = mdates.DateFormatter("%d %b")  # type: ignore[no-untyped-call]

SUMMARY_LABELS = {
    "output_lost_pct_of_horizon": "Output lost, % of the run",
    "lowest_output_pct": "Lowest daily output, % of normal",
    "entitlements_met_pct_during_shock": "Entitlements met during the shock, %",
    "lowest_household_met_pct": "Lowest day: household goods delivered, %",
    "worst_district_met_pct": "Worst district, worst day: entitlements met, %",
    "goods_spoiled_hours": "Goods spoiled, labour hours",
    "days_to_recover": "Days after the shock until output is back to 99%",
    "output_lost_hours": "Output lost, labour hours",
    "household_unmet_hours": "Household goods not delivered, labour hours",
    "max_stock_flow_imbalance": "Largest stock-flow imbalance (relative)",
}


def daily_table(run: ScenarioRun) -> pa.Table:
    """One row per variant and day: the national series, in % of the steady state."""
    eco, dates = run.sim, run.dates
    base_out = float(eco.value @ eco.steady_output)
    cols: dict[str, list[Any]] = {k: [] for k in (
        "scenario", "variant", "date", "output_pct", "household_met_pct",
        "entitlements_met_pct", "worst_district_met_pct", "labour_present_pct",
        "transport_capacity", "transport_used")}
    for v in run.variants:
        r = v.result
        cols["scenario"] += [run.scenario.name] * len(dates)
        cols["variant"] += [v.name] * len(dates)
        cols["date"] += dates
        cols["output_pct"] += list(100 * r.output_value / base_out)
        cols["household_met_pct"] += list(100 * r.household_value / np.maximum(
            r.household_requested_value, 1e-300))
        cols["entitlements_met_pct"] += list(100 * r.met @ eco.district_weight)
        cols["worst_district_met_pct"] += list(100 * r.met.min(axis=1))
        cols["labour_present_pct"] += list(100 * r.labour_present)
        cols["transport_capacity"] += list(r.transport_capacity)
        cols["transport_used"] += list(r.transport_used)
    return pa.table(cols)


def products_table(run: ScenarioRun) -> pa.Table | None:
    """One row per variant, day and product (units/day; stock in units)."""
    if run.variants[0].result.output is None:
        return None
    codes, dates = run.economy.io.product_codes, run.dates
    n, days = len(codes), len(dates)
    parts = []
    for v in run.variants:
        r = v.result
        parts.append(pa.table({
            "scenario": [run.scenario.name] * (n * days), "variant": [v.name] * (n * days),
            "date": _repeat_dates(dates, n),
            "product": list(codes) * days,
            **{k: getattr(r, k).ravel() for k in
               ("output", "stock", "household", "household_requested", "losses")}}))
    return pa.concat_tables(parts)


def districts_table(run: ScenarioRun) -> pa.Table:
    """One row per variant, day and district: share of entitlements met."""
    ids = [d.id for d in run.economy.districts] or ["all"]
    dates, d = run.dates, len(ids)
    parts = []
    for v in run.variants:
        parts.append(pa.table({
            "scenario": [run.scenario.name] * (d * len(dates)),
            "variant": [v.name] * (d * len(dates)),
            "date": _repeat_dates(dates, d),
            "district": ids * len(dates), "met_share": v.result.met.ravel()}))
    return pa.concat_tables(parts)


def _repeat_dates(dates: list[Any], k: int) -> pa.Array:
    """Each date k times, as a UTC timestamp column."""
    naive = np.array([d.replace(tzinfo=None) for d in dates], dtype="datetime64[us]")
    return pa.array(np.repeat(naive, k), type=pa.timestamp("us", tz="UTC"))


def write_report(runs: list[ScenarioRun], out: Path) -> Path:
    """Write Parquet tables, PNG plots and index.html into `out`; returns the HTML path."""
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.concat_tables([daily_table(r) for r in runs]), out / "daily.parquet")
    pq.write_table(pa.concat_tables([districts_table(r) for r in runs]),
                   out / "districts.parquet")
    products = [t for t in (products_table(r) for r in runs) if t is not None]
    if products:
        pq.write_table(pa.concat_tables(products), out / "products.parquet")
    figures = [plot_national(runs, out / "output_and_shortage.png"),
               plot_districts(runs, out / "districts.png"),
               plot_stocks_labour(runs, out / "stocks_labour_transport.png")]
    page = out / "index.html"
    page.write_text(_html(runs, [f.name for f in figures]), encoding="utf-8")
    return page


def _label(run: ScenarioRun, name: str, many: bool) -> str:
    return f"{run.scenario.name}: {name}" if many else name


def _shade(ax: Any, run: ScenarioRun) -> None:
    first, end = shock_window(run.scenario)
    if end > first:
        d = run.dates
        ax.axvspan(d[first], d[min(end, len(d) - 1)], color="#f4c7c3", alpha=0.5, lw=0)


def _dates(ax: Any) -> None:
    ax.xaxis.set_major_formatter(_DAY_MONTH)
    ax.grid(alpha=0.3)


def plot_national(runs: list[ScenarioRun], path: Path) -> Path:
    """Output and household entitlements met (national and worst district) per variant."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8), sharex=True)
    many = len(runs) > 1
    for run in runs:
        t = daily_table(run).to_pydict()
        for k, v in enumerate(run.variants):
            rows = [i for i, n in enumerate(t["variant"]) if n == v.name]
            d = [t["date"][i] for i in rows]
            lw = max(3.5 - 1.0 * k, 1.2)  # wide to narrow: lines on top of each other show
            line = axes[0].plot(d, [t["output_pct"][i] for i in rows], lw=lw,
                                label=_label(run, v.name, many))[0]
            axes[1].plot(d, [t["entitlements_met_pct"][i] for i in rows], lw=lw,
                         color=line.get_color(), label=_label(run, v.name, many))
            axes[1].plot(d, [t["worst_district_met_pct"][i] for i in rows], lw=1.2, ls="--",
                         color=line.get_color())
        for ax in axes:
            _shade(ax, run)
    axes[0].set(title="Output of the whole economy", ylabel="% of normal (labour value)")
    axes[1].set(title="Household entitlements met (dashed: worst district)",
                ylabel="% of entitlement")
    for ax in axes:
        _dates(ax)
        ax.legend(loc="lower left", fontsize=9)
    fig.text(0.5, 0.005, "shaded: the shock", ha="center", fontsize=9, color="#a33")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _window(run: ScenarioRun) -> tuple[int, int]:
    """Days to draw in the district maps: the shock with 2 weeks before and 4 after."""
    first, end = shock_window(run.scenario)
    if end <= first:
        return 0, run.scenario.days
    return max(0, first - 14), min(run.scenario.days, end + 28)


def plot_districts(runs: list[ScenarioRun], path: Path) -> Path:
    """Heat map per variant: each district's share of entitlements met, day by day."""
    panels = [(run, v) for run in runs for v in run.variants]
    names = [d.name for d in runs[0].economy.districts] or ["all"]
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels) + 1.5,
                                                      0.16 * len(names) + 2),
                             sharey=True, squeeze=False, layout="constrained")
    im = None
    for ax, (run, v) in zip(axes[0], panels, strict=True):
        lo, hi = _window(run)
        d = mdates.date2num(run.dates[lo:hi])  # type: ignore[no-untyped-call]
        im = ax.imshow(100 * v.result.met[lo:hi].T, aspect="auto", cmap="RdYlGn", vmin=40,
                       vmax=100, extent=(d[0], d[-1] + 1, len(names) - 0.5, -0.5),
                       interpolation="nearest")
        ax.set_title(_label(run, v.name, len(runs) > 1), fontsize=10)
        ax.xaxis_date()
        weeks = mdates.WeekdayLocator(interval=2)  # type: ignore[no-untyped-call]
        ax.xaxis.set_major_locator(weeks)
        ax.xaxis.set_major_formatter(_DAY_MONTH)
        ax.tick_params(axis="x", labelsize=8)
    axes[0][0].set_yticks(range(len(names)), names, fontsize=6)
    fig.suptitle("Share of entitlements met, by district (red = short)")
    if im is not None:
        fig.colorbar(im, ax=axes[0].tolist(), label="% of entitlement met", shrink=0.6)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_stocks_labour(runs: list[ScenarioRun], path: Path) -> Path:
    """Inventories (labour value), labour present and transport used/capacity per variant."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2), sharex=True)
    many = len(runs) > 1
    for run in runs:
        dates = run.dates
        for v in run.variants:
            r = v.result
            lab = _label(run, v.name, many)
            if r.stock is not None:
                stock = r.stock @ run.sim.value
                axes[0].plot(dates, 100 * stock / stock[0], lw=2, label=lab)
            axes[1].plot(dates, 100 * r.labour_present, lw=2, label=lab)
            axes[2].plot(dates, r.transport_used, lw=2, label=f"{lab}: used")
            axes[2].plot(dates, r.transport_capacity, lw=1, ls=":", label=f"{lab}: capacity")
        for ax in axes:
            _shade(ax, run)
    axes[0].set(title="Inventories (finished + inputs)", ylabel="% of day 1 (labour value)")
    axes[1].set(title="Labour present", ylabel="% of workforce (output-weighted)")
    axes[2].set(title="Transport", ylabel="tonnes/day")
    for ax in axes:
        _dates(ax)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _html(runs: list[ScenarioRun], figures: list[str]) -> str:
    heads = "".join(f"<th>{html.escape(_label(r, v.name, len(runs) > 1))}</th>"
                    for r in runs for v in r.variants)
    rows = "".join(
        f"<tr><td>{html.escape(label)}</td>" + "".join(
            f"<td>{_fmt(v.summary.get(key))}</td>" for r in runs for v in r.variants) + "</tr>"
        for key, label in SUMMARY_LABELS.items())
    intro = "".join(
        f"<h2>{html.escape(r.scenario.name)}</h2><p><b>{html.escape(r.scenario.title)}</b></p>"
        f"<p>{html.escape(r.scenario.description)}</p><p>Economy {html.escape(r.economy.name)}"
        f", {r.scenario.days} days from {r.scenario.start.date()}, seed {r.scenario.seed}.</p>"
        for r in runs)
    imgs = "".join(f'<p><img src="{f}" alt="{f}" style="max-width:100%"></p>' for f in figures)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<title>cybersyn simulate report</title><style>body{font-family:sans-serif;"
        "max-width:1500px;margin:auto}table{border-collapse:collapse}td,th{border:1px solid "
        "#ccc;padding:4px 8px;text-align:right}td:first-child{text-align:left}</style>"
        f"</head><body><h1>Simulation (CHECO) report</h1>{intro}<h2>Side by side</h2>"
        f"<table><tr><th></th>{heads}</tr>{rows}</table>{imgs}"
        "<p>Tables: daily.parquet, districts.parquet, products.parquet.</p></body></html>")


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and abs(value) < 1e-3 and value != 0:
        return f"{value:.1e}"
    return f"{value:,}" if isinstance(value, int | float) else html.escape(str(value))
