"""`cybersyn monitor ...`: run the detector over a CSV; plot an indicator's filter."""

from __future__ import annotations

import csv
import itertools
import json
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from cybersyn.monitor.csvio import read_series
from cybersyn.monitor.detector import Detector
from cybersyn.monitor.filter import MultiProcessFilter, StepOutput
from cybersyn.monitor.params import REGIMES, DetectParams
from cybersyn.monitor.retrospective import change_points

app = typer.Typer(help="Cyberstride: the multi-process filter and change detection.",
                  no_args_is_help=True)

COLUMNS = ("time", "value", "forecast", "forecast_sd", *(f"p_{r}" for r in REGIMES),
           "score", "alarm", "signal")


@app.command("detect")
def detect_cmd(
    file: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
    time_column: Annotated[str | None, typer.Option(
        "--time-column", help="Time column (ISO 8601 or numbers; default: a column named "
        "timestamp/time/date, else the row number).")] = None,
    value_column: Annotated[str | None, typer.Option(
        "--value-column", help="Value column (default 'value', else the last column).")] = None,
    threshold: Annotated[float, typer.Option(
        help="Detection threshold in (0, 1) on the calibrated surprise score.")] = 0.5,
    warmup: Annotated[int | None, typer.Option(
        help="Rows the detector learns from before it may signal (default: 15% of the "
        "rows, at least 20, at most 750: NAB's probation rule).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per row.")] = False,
    retrospective: Annotated[bool, typer.Option(
        "--retrospective", help="Print only the offline change points of the whole series "
        "(Bayesian segmentation): row, time, mean before and after.")] = False,
) -> None:
    """Filter one series and print, per row, forecast, regime probabilities, score, signal.

    The detector is the server's (`cybersyn.monitor.detector`, docs/monitor.md). The
    `signal` of a row is filled at the row where a change began (step, slope or transient);
    `alarm` is the detector's score at the row where it was signalled (usually the next
    one). Forecast and probabilities are the plain filter's, with time in units of the
    median spacing of the time column, so irregular gaps count in typical steps.
    With --retrospective, one line per change point of the MAP segmentation instead
    (`cybersyn.monitor.retrospective.change_points`)."""
    labels, times, values = read_series(file, time_column, value_column)
    if retrospective:
        _print_change_points(labels, values, as_json)
        return
    out = MultiProcessFilter().run(values, _in_steps(times))
    try:
        params = DetectParams(threshold=threshold, warmup=warmup if warmup is not None else
                              default_warmup(values.size))
    except ValueError as e:
        raise typer.BadParameter(str(e)) from None
    sig, alarm = _signals(values, times, params)
    rows = [_row(labels[k], values[k], out, k, float(alarm[k]), sig.get(k, ""))
            for k in range(values.size)]
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r))
        return
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow(["" if v is None else v for v in r.values()])


def _print_change_points(labels: list[str], values: np.ndarray, as_json: bool) -> None:
    cps = change_points(values)
    bounds = [0, *cps, values.size]
    means = [_num(float(np.nanmean(values[a:b]))) if np.isfinite(values[a:b]).any()
             else None for a, b in itertools.pairwise(bounds)]
    rows = [{"row": c, "time": labels[c], "mean_before": means[i], "mean_after": means[i + 1]}
            for i, c in enumerate(cps)]
    if as_json:
        for r in rows:
            typer.echo(json.dumps(r))
        return
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(("row", "time", "mean_before", "mean_after"))
    for r in rows:
        w.writerow(["" if v is None else v for v in r.values()])


def default_warmup(rows: int) -> int:
    """15% of the rows, at least the server's 20, at most 750 (NAB's probation rule): a
    whole file is at hand, and a daily season of 5-minute data needs 576 rows."""
    return int(min(max(0.15 * rows, DetectParams().warmup), 750))


def _in_steps(times: np.ndarray) -> np.ndarray:
    """Times in units of the median spacing, so variances are per typical step."""
    gaps = np.diff(times)
    gaps = gaps[gaps > 0]
    return times / float(np.median(gaps)) if gaps.size else times


def _signals(values: np.ndarray, times: np.ndarray, params: DetectParams,
             ) -> tuple[dict[int, str], np.ndarray]:
    """The detector over one series: {row where a change began: kind}, alarm per row."""
    det = Detector(1, params)
    found: dict[int, str] = {}
    alarm = np.empty(values.size)
    for k in range(values.size):
        d = det.step(values[k : k + 1], times[k])
        alarm[k] = d.alarm[0]
        for i in range(len(d)):
            rows = np.flatnonzero((times[: k + 1] == d.start[i]) & ~np.isnan(values[: k + 1]))
            found[int(rows[-1]) if rows.size else k] = d.kind_name(i)
    return found, alarm


def _num(x: float, digits: int = 6) -> float | None:
    return None if not np.isfinite(x) else round(float(x), digits)


def _row(label: str, value: float, out: StepOutput, k: int, alarm: float,
         signal: str) -> dict[str, object]:
    sd = np.sqrt(out.forecast_var[k]) if np.isfinite(out.forecast_var[k]) else np.nan
    return {"time": label, "value": _num(value), "forecast": _num(out.forecast[k]),
            "forecast_sd": _num(sd),
            **{f"p_{r}": _num(out.p[k, j], 4) for j, r in enumerate(REGIMES)},
            "score": _num(out.score[k], 4), "alarm": _num(alarm, 4), "signal": signal}


@app.command("plot")
def plot_cmd(
    indicator: Annotated[str, typer.Argument(help="Indicator id (or '<id>:productivity').")],
    out: Annotated[Path, typer.Option("--out", help="PNG file to write.")] = Path(
        "monitor.png"),
    limit: Annotated[int, typer.Option(min=2, help="Most recent points to draw.")] = 365,
    database: Annotated[str | None, typer.Option("--database", "-d",
                                                 help="Database URL.")] = None,
) -> None:
    """Draw the series, its forecast band and the regime probabilities under it."""
    from cybersyn.cli_common import open_store
    from cybersyn.monitor.plot import plot_series
    from cybersyn.monitor.query import series_points

    store = open_store(database)
    with store.read() as conn:
        info, points = series_points(conn, indicator, limit)
    plot_series(info, points, out)
    typer.echo(f"wrote {out} ({len(points)} points)")
