"""Explanations a council can read: for every target not met, the limits that bind and what
one more unit of each would give; the labour value of each product; differences between two
plans. Pure functions over `PlanResult` and plain dicts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cybersyn.plan.leontief import labour_values
from cybersyn.plan.problem import Binding, PlanResult

MET = 1e-7


@dataclass(frozen=True)
class Unmet:
    """A target not met: planned net output below target, and why."""

    product: str
    target: float
    planned: float
    share_met: float
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    objective: str
    method: str
    value: float
    lam: float
    labour_used: float
    labour_available: float
    binding: tuple[str, ...]
    unmet: tuple[Unmet, ...]
    labour_values: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["labour_available"] = _finite(self.labour_available)
        return d


def _finite(v: float) -> float | None:
    return float(v) if np.isfinite(v) else None


def _reason(b: Binding, target: float, result: PlanResult, i: int) -> str:
    if result.objective == "kantorovich":
        unit = "hour" if b.kind == "labour" else "unit"
        what = {"labour": "labour available", "capacity": f"capacity of {b.name}",
                "resource": f"{b.name} available"}.get(b.kind, b.name)
        return (f"{what} binds (limit {b.limit:,.6g}): one more {unit} yields "
                f"{b.shadow_price * target:.4g} more units of "
                f"{result.problem.product_names[i]}")
    return b.sentence()


def explain(result: PlanResult, *, top: int = 10, max_unmet: int = 200) -> Explanation:
    """Explain `result`: binding limits, each unmet target (largest shortfall share first,
    at most `max_unmet`) with its binding limits, and the `top` highest labour values."""
    p = result.problem
    t = p.targets
    short = np.flatnonzero((t > 0) & (result.net < t * (1 - MET)))
    order = short[np.argsort(result.net[short] / t[short])][:max_unmet]
    unmet = []
    for i in order:
        own = [b for b in result.binding if b.kind != "capacity" or b.name ==
               p.activity_names[i] or result.objective == "kantorovich"]
        reasons = tuple(_reason(b, float(t[i]), result, int(i)) for b in own[:5])
        if not reasons:
            reasons = ("no single limit binds: the plan trades this target off against "
                       "others of more weight",)
        unmet.append(Unmet(p.product_names[i], float(t[i]), float(result.net[i]),
                           float(result.net[i] / t[i]), reasons))
    v = labour_values(p.A, p.labour) if p.square else np.zeros(p.n)
    tops = np.argsort(-v)[:top]
    return Explanation(result.objective, result.method, float(result.value), float(result.lam),
                       result.labour_used(), float(p.labour_available),
                       tuple(b.sentence() for b in result.binding[:20]), tuple(unmet),
                       {p.product_names[i]: float(v[i]) for i in tops})


def diff(a: dict[str, Any], b: dict[str, Any], *, tol: float = 1e-9) -> dict[str, Any]:
    """Differences between two stored plan versions (dicts from `versions.get_version`):
    objective and λ, and per product the change of target, net and gross output."""
    pa, pb = a["products"], b["products"]
    changes = []
    for code in sorted(set(pa) | set(pb)):
        ra, rb = pa.get(code, {}), pb.get(code, {})
        row: dict[str, Any] = {"product": code}
        moved = False
        for key in ("target", "net_output", "gross_output"):
            va, vb = ra.get(key), rb.get(key)
            row[key] = [va, vb]
            if va is None or vb is None or abs(va - vb) > tol * max(1.0, abs(va), abs(vb)):
                moved = True
        if moved:
            changes.append(row)
    return {"a": a["id"], "b": b["id"], "objective": [a["objective"], b["objective"]],
            "lambda": [a["lam"], b["lam"]], "value": [a["value"], b["value"]],
            "changed_products": changes}
