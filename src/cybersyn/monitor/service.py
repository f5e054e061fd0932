"""The shell around the filter: labelled series in, arrays to the core, rows to the store.

`Tracker` keeps the index (series id -> row of the state array), converts UTC datetimes to
days (the filter's unit of time), runs the filter whose outputs are stored and charted and
the `Detector` whose signals become `cybersyn.signals.Signal` (the same detector the NAB
and TCPD benches score).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

from cybersyn.economy.model import Indicator
from cybersyn.monitor.detector import Detector, DetectorStep
from cybersyn.monitor.filter import (
    STATE_DTYPE,
    MultiProcessFilter,
    StepOutput,
    new_state,
    state_from_bytes,
    state_to_bytes,
)
from cybersyn.monitor.params import DetectParams, FilterParams
from cybersyn.monitor.tables import monitor_outputs, monitor_signals, monitor_state
from cybersyn.monitor.triple import triple_index
from cybersyn.signals import Signal

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TRIPLE_SERIES = ("productivity", "performance")
"""Triple indices filtered per indicator with capability and potentiality (latency = C/P is
constant while C and P are, so it is reported but not filtered)."""


def to_days(when: datetime) -> float:
    return (when - EPOCH).total_seconds() / 86400.0


def from_days(days: float) -> datetime:
    return EPOCH + timedelta(days=float(days))


def series_ids(indicators: Sequence[Indicator]) -> list[str]:
    """Every indicator, then '<id>:productivity' and '<id>:performance' where they apply."""
    ids = [i.id for i in indicators]
    for ind in indicators:
        if ind.capability is not None and ind.potentiality is not None:
            ids += [f"{ind.id}:{name}" for name in TRIPLE_SERIES]
    return ids


class Tracker:
    """Filter state for a fixed list of indicators (and their triple indices)."""

    def __init__(self, indicators: Sequence[Indicator], params: FilterParams | None = None,
                 detect_params: DetectParams | None = None) -> None:
        self.indicators = tuple(indicators)
        self.ids = series_ids(self.indicators)
        self.index = {sid: k for k, sid in enumerate(self.ids)}
        self.filter = MultiProcessFilter(params)
        self.detect_params = detect_params or DetectParams()
        self.state = new_state(len(self.ids))
        self.detector = Detector(len(self.ids), self.detect_params, params)
        tri = [(k, i) for k, i in enumerate(self.indicators)
               if i.capability is not None and i.potentiality is not None]
        self._tri_rows = np.array([k for k, _ in tri], dtype=np.int64)
        self._cap = np.array([i.capability for _, i in tri], dtype=float)
        self._pot = np.array([i.potentiality for _, i in tri], dtype=float)

    def values(self, readings: Iterable[tuple[str, datetime, float]]) -> np.ndarray:
        """(n_series,) vector: readings placed by indicator id (NaN = missing) + triple."""
        y = np.full(len(self.ids), np.nan)
        n = len(self.indicators)
        for ind_id, _when, value in readings:
            k = self.index.get(ind_id)
            if k is not None and k < n:
                y[k] = value
        ti = triple_index(y[self._tri_rows], self._cap, self._pot)
        m = self._tri_rows.size
        y[n : n + 2 * m : 2] = ti.productivity
        y[n + 1 : n + 2 * m : 2] = ti.performance
        return y

    def step(self, y: np.ndarray, when: datetime
             ) -> tuple[StepOutput, DetectorStep, np.ndarray]:
        """Advance every series at `when`: the filter (outputs) and the detector (signals).
        Returns outputs, the detector's step and the previous times (days)."""
        prev_t = self.state["t_last"].copy()
        days = to_days(when)
        out = self.filter.update(self.state, y, days)
        return out, self.detector.step(y, days), prev_t

    def signals(self, dets: DetectorStep, prev_t: np.ndarray, when: datetime) -> list[Signal]:
        """The detector's signals as `Signal`s (start = the change's own observation)."""
        return [Signal(indicator_id=self.ids[k], kind=dets.kind_name(i),
                       probability=float(np.clip(dets.probability[i], 0.0, 1.0)),
                       start=from_days(float(dets.start[i])), detected_at=when,
                       score=float(dets.score[i]), direction=int(dets.direction[i]))
                for i, k in enumerate(dets.series.tolist())]

    # -- persistence ------------------------------------------------------------------
    def output_block(self, y: np.ndarray, out: StepOutput) -> tuple[np.ndarray, np.ndarray]:
        """(rows (k,) of the series observed now, (k, 11) float64 in OUTPUT_COLUMNS order)."""
        k = np.flatnonzero(~np.isnan(y))
        block = np.column_stack([y[k], out.forecast[k], out.forecast_var[k], out.level[k],
                                 out.slope[k], out.p[k], out.score[k]])
        return k, block

    def save_state(self, conn: sa.Connection, when: datetime) -> None:
        """Replace the stored state of every series (exact bytes): the filter's record
        followed by the detector's (`Detector.series_bytes`)."""
        params = json.dumps({**asdict(self.filter.params),
                             "detect": asdict(self.detect_params)})
        conn.execute(monitor_state.delete().where(monitor_state.c.series_id.in_(self.ids)))
        conn.execute(monitor_state.insert(), [
            {"series_id": sid, "updated_at": when, "params": params,
             "state": state_to_bytes(self.state, k) + self.detector.series_bytes(k)}
            for k, sid in enumerate(self.ids)])

    def load_state(self, conn: sa.Connection) -> int:
        """Restore stored states (series without one stay fresh); returns how many.

        A blob holding only the filter's record (written before the detector existed) or
        a detector state of another size (other warm-up) restores the filter and leaves
        that series' detector fresh: it warms up again from its next observations."""
        rows = conn.execute(sa.select(monitor_state.c.series_id, monitor_state.c.state)
                            .where(monitor_state.c.series_id.in_(self.ids))).all()
        fsize = STATE_DTYPE.itemsize
        for sid, blob in rows:
            k, raw = self.index[sid], bytes(blob)
            self.state[k] = state_from_bytes([raw[:fsize]])[0]
            if len(raw) > fsize:
                try:
                    self.detector.load_series_bytes(k, raw[fsize:])
                except ValueError:
                    self.detector.reset(k)
        return len(rows)


OUTPUT_COLUMNS = ("value", "forecast", "forecast_var", "level", "slope_per_day", "p_steady",
                  "p_step", "p_slope", "p_transient", "score")


class OutputBuffer:
    """Per-step outputs held in memory and written in one sorted batch (`flush`).

    Rows of one flush are sorted by (series id, time), so the primary-key B-tree of
    `monitor_outputs` is filled in order instead of touching every leaf page once a day:
    that, and going to the driver directly, is what makes the 120-day demo take ~1 s of
    writes instead of ~25 s (docs/monitor.md).
    """

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        self._rank = np.argsort(np.argsort(np.array(self.ids, dtype=object)))
        self._blocks: list[tuple[datetime, np.ndarray, np.ndarray]] = []
        self.rows = 0

    def add(self, when: datetime, rows: np.ndarray, block: np.ndarray) -> None:
        self._blocks.append((when, rows, block))
        self.rows += rows.size

    def flush(self, conn: sa.Connection) -> int:
        """Insert every buffered row (one executemany through the driver); returns count."""
        if not self.rows:
            return 0
        col_type = monitor_outputs.c.observed_at.type
        proc = col_type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
        times = [proc(w) if proc else w for w, _, _ in self._blocks]
        day = np.concatenate([np.full(r.size, j) for j, (_, r, _) in enumerate(self._blocks)])
        rows = np.concatenate([r for _, r, _ in self._blocks])
        vals = np.concatenate([b for _, _, b in self._blocks])
        order = np.lexsort((day, self._rank[rows]))
        params = [(self.ids[r], times[d], *v) for r, d, v in zip(
            rows[order].tolist(), day[order].tolist(), vals[order].tolist(), strict=True)]
        conn.exec_driver_sql(_insert_sql(conn.dialect), params)
        self._blocks, self.rows = [], 0
        return len(params)


def _insert_sql(dialect: sa.Dialect) -> str:
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    cols = ("series_id", "observed_at", *OUTPUT_COLUMNS)
    return (f"INSERT INTO {monitor_outputs.name} ({', '.join(cols)}) "
            f"VALUES ({', '.join([mark] * len(cols))})")


def delete_from(conn: sa.Connection, ids: Sequence[str], when: datetime) -> None:
    """Forget outputs and signals of these series at or after `when` (a replayed run)."""
    o, s = monitor_outputs.c, monitor_signals.c
    conn.execute(monitor_outputs.delete().where(o.observed_at >= when,
                                                o.series_id.in_(list(ids))))
    conn.execute(monitor_signals.delete().where(s.detected_at >= when,
                                                s.series_id.in_(list(ids))))


def insert_signals(conn: sa.Connection, signals: list[Signal]) -> None:
    if signals:
        conn.execute(monitor_signals.insert(), [
            {"series_id": s.indicator_id, "kind": s.kind, "probability": s.probability,
             "start": s.start, "detected_at": s.detected_at, "score": s.score,
             "direction": s.direction} for s in signals])
