"""NAB (Numenta Anomaly Benchmark) scorer written here from NAB's published description
(Lavin & Ahmad 2015, arXiv:1510.03336; NAB v1.1 README/wiki), checked by reproducing the
published windowedGaussian scores, then used to score cybersyn's monitor.

Scoring: windows centred on labels (given in labels/combined_windows.json); probation =
first min(floor(0.15 n), 750) rows of a file, not scored; inside a window the earliest
detection scores tpWeight * (2 sigmoid(-5 x) - 1) with x = -(right - i + 1) / width; a
window with no detection scores -fnWeight; a detection outside windows scores
fpWeight * (2 sigmoid(-5 x) - 1), x = |i - right of previous window| / (width - 1)
(-fpWeight if no window precedes it or x > 3); the threshold is optimised per detector and
profile over the whole corpus; normalised score = 100 (S - S_null) / (S_perfect - S_null).

    python bench/nab.py [--data DIR] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
FIXED_THRESHOLD = 0.5
"""Of `cybersyn-posterior`, chosen before any run: NAB score 0.5 <=> p_steady = 0.1 <=> the
old rule's threshold 1 - p_steady = 0.9. `cybersyn` is scored at the detector's own
threshold (DetectParams.threshold, 0.5, fixed before its runs)."""


def default_data() -> Path:
    return Path(os.environ.get("CYBERSYN_DATA", "/work/shared/data")) / "nab"


@dataclass
class File:
    name: str
    times: list[datetime]
    values: np.ndarray
    windows: list[tuple[int, int]]


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.strip())


def load_corpus(data: Path) -> list[File]:
    windows = json.loads((data / "labels" / "combined_windows.json").read_text())
    files = []
    for name in sorted(windows):
        with open(data / "data" / name, newline="") as fh:
            rows = list(csv.DictReader(fh))
        times = [_parse(r["timestamp"]) for r in rows]
        values = np.array([float(r["value"]) for r in rows])
        idx = []
        for start, end in windows[name]:
            lo = int(np.searchsorted(np.array(times, dtype="datetime64[us]"),
                                     np.datetime64(_parse(start)), side="left"))
            hi = int(np.searchsorted(np.array(times, dtype="datetime64[us]"),
                                     np.datetime64(_parse(end)), side="right")) - 1
            idx.append((lo, hi))
        files.append(File(name, times, values, idx))
    return files


def scaled_sigmoid(x: float) -> float:
    return -1.0 if x > 3.0 else 2.0 / (1.0 + math.exp(5.0 * x)) - 1.0


def sweep(f: File, scores: np.ndarray, cost: dict[str, float], wid0: int,
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per scorable row: (anomaly score, weighted sweep score, window id or -1)."""
    n = len(f.times)
    prob = min(math.floor(0.15 * n), 0.15 * 5000)
    sweep_s = np.empty(n)
    win = np.full(n, -1)
    prev_r, prev_w = None, None
    wins = {lo: (k, lo, hi) for k, (lo, hi) in enumerate(f.windows)}
    cur = None
    for i in range(n):
        if i in wins:
            cur = wins[i]
        if cur is not None:
            k, lo, hi = cur
            width = hi - lo + 1
            sweep_s[i] = cost["tpWeight"] * scaled_sigmoid(-(hi - i + 1) / width)
            win[i] = wid0 + k
        else:
            u = -1.0 if prev_r is None else scaled_sigmoid(abs(prev_r - i) / (prev_w - 1))
            sweep_s[i] = cost["fpWeight"] * u
        if cur is not None and i == cur[2]:
            prev_r, prev_w, cur = cur[2], cur[2] - cur[1] + 1, None
    keep = np.arange(n) >= prob
    return scores[keep], sweep_s[keep], win[keep]


def best_threshold(anom: np.ndarray, sw: np.ndarray, win: np.ndarray,
                   fn_weight: float) -> tuple[float, float, int]:
    """NAB's threshold sweep over pooled rows: (threshold, raw score, scored windows)."""
    order = np.argsort(-anom, kind="stable")
    windows = np.unique(win[win >= 0])
    part = dict.fromkeys(windows.tolist(), -fn_weight)
    fp = 0.0
    total = -fn_weight * len(part)
    best = (1.1, total)
    cur_thr = 1.1
    for a, s, w in zip(anom[order].tolist(), sw[order].tolist(), win[order].tolist(),
                       strict=True):
        if a != cur_thr:
            if total > best[1]:
                best = (cur_thr, total)
            cur_thr = a
        if w < 0:
            fp += s
            total += s
        elif s > part[w]:
            total += s - part[w]
            part[w] = s
    if total > best[1]:
        best = (cur_thr, total)
    return best[0], best[1], len(part)


def score_at(anom: np.ndarray, sw: np.ndarray, win: np.ndarray, fn_weight: float,
             thr: float) -> float:
    det = anom >= thr
    total = float(sw[det & (win < 0)].sum())
    for w in np.unique(win[win >= 0]):
        hit = det & (win == w)
        total += float(sw[hit].max()) if hit.any() else -fn_weight
    return total


def evaluate(files: list[File], scores: list[np.ndarray], profiles: dict[str, dict],
             fixed: float | None = None) -> dict[str, dict[str, float]]:
    out = {}
    for prof in PROFILES:
        cost = profiles[prof]["CostMatrix"]
        parts, wid = [], 0
        for f, s in zip(files, scores, strict=True):
            parts.append(sweep(f, s, cost, wid))
            wid += len(f.windows)
        anom, sw, win = (np.concatenate([p[i] for p in parts]) for i in range(3))
        thr, raw, nwin = best_threshold(anom, sw, win, cost["fnWeight"])
        null, perfect = -cost["fnWeight"] * nwin, cost["tpWeight"] * nwin
        norm = 100.0 * (raw - null) / (perfect - null)
        res = {"score": norm, "threshold": thr, "raw": raw}
        if fixed is not None:
            raw_f = score_at(anom, sw, win, cost["fnWeight"], fixed)
            res["fixed_threshold_score"] = 100.0 * (raw_f - null) / (perfect - null)
        out[prof] = res
    return out


def windowed_gaussian_scores(data: Path, files: list[File]) -> list[np.ndarray]:
    out = []
    for f in files:
        folder, base = f.name.split("/")
        path = data / "results" / "windowedGaussian" / folder / f"windowedGaussian_{base}"
        with open(path, newline="") as fh:
            out.append(np.array([float(r["anomaly_score"]) for r in csv.DictReader(fh)]))
    return out


def posterior_scores(files: list[File]) -> list[np.ndarray]:
    """The first session's live rule (`cybersyn-posterior`, kept for the record): all 58
    files through one vectorised filter, time = row number, score L / (1 + L) with
    L = -log10 P(steady now)."""
    from cybersyn.monitor import MultiProcessFilter, new_state

    f = MultiProcessFilter()
    length = max(len(x.values) for x in files)
    y = np.full((length, len(files)), np.nan)
    for j, x in enumerate(files):
        y[: len(x.values), j] = x.values
    state = new_state(len(files))
    score = np.empty_like(y)
    for k in range(length):
        p = np.maximum(f.update(state, y[k], float(k)).p[:, 0], 1e-300)
        lg = -np.log10(p)
        score[k] = lg / (1.0 + lg)
    return [score[: len(x.values), j] for j, x in enumerate(files)]


def probation_rows(n: int) -> int:
    return int(min(math.floor(0.15 * n), 0.15 * 5000))


def detector_scores(files: list[File], params: object = None) -> list[np.ndarray]:
    """The server's detector (`cybersyn.monitor.detector.Detector`) over all 58 files at
    once (NaN-padded), times in days from the timestamps, each file's warm-up = its NAB
    probation rows (NAB gives every detector that length). The NAB score of a row is the
    detector's `alarm`: the score of the signal it issues at that row (0 if none), so the
    fixed threshold 0.5 = the server's default threshold = exactly the server's signals."""
    from cybersyn.monitor import Detector, DetectParams

    n, length = len(files), max(len(x.values) for x in files)
    y = np.full((length, n), np.nan)
    tt = np.zeros((length, n))
    for j, x in enumerate(files):
        days = np.array(x.times, dtype="datetime64[s]").astype(np.int64) / 86400.0
        y[: days.size, j] = x.values
        tt[: days.size, j] = days
        tt[days.size :, j] = days[-1]
    det = Detector(n, params if isinstance(params, DetectParams) else DetectParams(),
                   warmup=np.array([probation_rows(len(x.values)) for x in files]))
    alarm = np.empty((length, n))
    for k in range(length):
        alarm[k] = det.step(y[k], tt[k]).alarm
    return [alarm[: len(x.values), j] for j, x in enumerate(files)]


def parse_overrides(items: list[str]) -> dict[str, object]:
    """--param name=value (numbers, or comma-separated tuples) for DetectParams."""
    out: dict[str, object] = {}
    for item in items:
        name, _, text = item.partition("=")
        vals = [float(v) for v in text.split(",")]
        out[name] = tuple(vals) if "," in text else (
            int(vals[0]) if name == "warmup" else vals[0])
    return out


def print_split(files: list[File], scores: list[np.ndarray], profiles: dict[str, dict],
                fixed: float | None, as_json: bool) -> None:
    """Standard score on the odd- and on the even-numbered files (sorted names) apart."""
    for half, parity in (("odd", 1), ("even", 0)):
        idx = [i for i in range(len(files)) if i % 2 == parity]
        res = evaluate([files[i] for i in idx], [scores[i] for i in idx], profiles,
                       fixed)["standard"]
        line = {"detector": "cybersyn", "profile": "standard", "files": half,
                "score": round(res["score"], 2), "threshold": round(res["threshold"], 4),
                "fixed_threshold_score": round(res.get("fixed_threshold_score", math.nan), 2)}
        print(json.dumps(line) if as_json else
              f"cybersyn {half:4s} files standard {line['score']:7.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--json", action="store_true", help="One JSON line per detector/profile.")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="Override a DetectParams field (a variant; labelled in the output).")
    ap.add_argument("--split", action="store_true",
                    help="Also score cybersyn on the odd- and even-numbered files apart "
                         "(a held-out check of parameters chosen on the other half).")
    ap.add_argument("--no-posterior", action="store_true",
                    help="Skip the old posterior rule (saves a minute).")
    args = ap.parse_args()
    if not (args.data / "labels" / "combined_windows.json").exists():
        sys.exit(f"NAB data not found at {args.data} (set --data or CYBERSYN_DATA)")
    from cybersyn.monitor import DetectParams

    files = load_corpus(args.data)
    profiles = json.loads((args.data / "config" / "profiles.json").read_text())
    board = json.loads((args.data / "results" / "final_results.json").read_text())
    over = parse_overrides(args.param)
    params = DetectParams(**over)  # type: ignore[arg-type]
    runs: list[tuple[str, list[np.ndarray] | None, float | None, dict[str, object]]] = [
        ("windowedGaussian", None, None, {}),
        ("cybersyn", None, params.threshold, over)]
    if not args.no_posterior:
        runs.append(("cybersyn-posterior", None, FIXED_THRESHOLD, {}))
    for name, _, fixed, extra in runs:
        wall, cpu = time.perf_counter(), time.process_time()
        scores = (windowed_gaussian_scores(args.data, files) if name == "windowedGaussian"
                  else detector_scores(files, params) if name == "cybersyn"
                  else posterior_scores(files))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        for prof, res in evaluate(files, scores, profiles, fixed).items():
            line: dict[str, object] = {
                "detector": name, "profile": prof, "score": round(res["score"], 2),
                "threshold": round(res["threshold"], 4),
                "published": board.get(name, {}).get(prof)}
            if fixed is not None:
                line["fixed_threshold"] = fixed
                line["fixed_threshold_score"] = round(res["fixed_threshold_score"], 2)
            if extra:
                line["params"] = extra
            line.update({"wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                         "loadavg_1min": round(os.getloadavg()[0], 2)})
            print(json.dumps(line) if args.json else
                  f"{name:18s} {prof:20s} {line['score']:7.2f} (published {line['published']})")
        if args.split and name == "cybersyn":
            print_split(files, scores, profiles, fixed, args.json)


if __name__ == "__main__":
    main()
