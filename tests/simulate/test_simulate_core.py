"""The daily dynamic IO core: Leontief steady state, stock-flow consistency, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from cybersyn.economy import IOSystem
from cybersyn.simulate import Policy, Shock, SimParams, build, simulate
from cybersyn.simulate.core import Flows, State


def random_io(rng: np.random.Generator, n: int, density: float = 0.4) -> IOSystem:
    """A productive A (column sums < 0.8) of shape (n, n), positive final demand."""
    A = rng.uniform(0.0, 1.0, (n, n)) * (rng.uniform(size=(n, n)) < density)
    A *= rng.uniform(0.1, 0.8, n) / np.maximum(A.sum(axis=0), 1e-9)
    y = rng.uniform(100.0, 1000.0, n) * 365
    x = np.linalg.solve(np.eye(n) - A, y)
    return IOSystem(tuple(f"p{i}" for i in range(n)), sp.csr_matrix(A),
                    rng.uniform(1, 10, n), x * 1.2, y)


def test_steady_state_is_the_leontief_solution() -> None:
    io = random_io(np.random.default_rng(1), 12)
    eco = build(io)
    res = simulate(eco, SimParams(), 60)
    dense = np.linalg.solve(np.eye(io.n) - io.A.toarray(), io.final_demand / 365)
    assert res.output is not None
    np.testing.assert_allclose(res.output, np.broadcast_to(dense, res.output.shape),
                               rtol=1e-9)
    np.testing.assert_allclose(res.household[-1], res.household_requested[-1], rtol=1e-12)


def test_steady_state_with_imports_solves_competitive_import_model() -> None:
    io = random_io(np.random.default_rng(2), 8)
    s = np.linspace(0.0, 0.5, 8)
    res = simulate(build(io, import_share=s), SimParams(), 20)
    A = io.A.toarray()
    dense = np.linalg.solve(np.eye(8) - np.diag(1 - s) @ A, (1 - s) * io.final_demand / 365)
    assert res.output is not None
    np.testing.assert_allclose(res.output[-1], dense, rtol=1e-9)


def test_demo_economy_steady_state(demo: object) -> None:
    io = demo.io  # type: ignore[attr-defined]
    res = simulate(build(io), SimParams(), 30)
    dense = np.linalg.solve(np.eye(io.n) - io.A.toarray(), io.final_demand / 365)
    assert res.output is not None
    np.testing.assert_allclose(res.output[-1], dense, rtol=1e-9)


shock_st = st.builds(
    Shock, kind=st.sampled_from(["transport_cut", "import_blockade", "lockout",
                                 "absenteeism", "harvest_failure"]),
    start=st.integers(0, 20), days=st.integers(1, 20), size=st.floats(0.0, 1.0),
    products=st.just((0, 1)))
policy_st = st.builds(
    Policy, kind=st.sampled_from(["requisition", "reroute", "rationing", "replan",
                                  "cordones"]),
    start=st.integers(0, 20), days=st.integers(1, 30), size=st.floats(0.0, 1.0),
    products=st.sampled_from([(), (0,), (1, 2)]),
    rule=st.sampled_from(["proportional", "cea", "cel"]), every_days=st.integers(1, 10))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 7),
       shocks=st.lists(shock_st, max_size=3), policies=st.lists(policy_st, max_size=3),
       noise=st.floats(0.0, 0.3), spoil=st.floats(0.0, 1.0), imp=st.floats(0.0, 0.9))
def test_stock_flow_consistent_every_step(seed: int, n: int, shocks: list[Shock],
                                          policies: list[Policy], noise: float, spoil: float,
                                          imp: float) -> None:
    """Δ(total stock of each product) = output + imports - use - final - losses, each day,
    checked here independently of the core's own recorder."""
    rng = np.random.default_rng(seed)
    io = random_io(rng, n)
    eco = build(io, import_share=np.full(n, imp) * (rng.uniform(size=n) < 0.5),
                spoilage=spoil, district_weight=rng.uniform(1, 5, 4),
                affluence=rng.uniform(0, 1, 4), spare_parts=int(rng.integers(-1, n)),
                essential=rng.uniform(size=n) < 0.5,
                transport_intensity=rng.uniform(0, 2, n))
    from cybersyn.simulate.planner import fallback_plan

    prev = {"stock": None}
    worst = {"err": 0.0}

    def check(day: int, s: State, f: Flows) -> None:
        stock = s.stock(eco.rows)
        assert np.all(s.finished >= 0) and np.all(s.inputs >= -1e-9)
        if prev["stock"] is not None:
            expect = prev["stock"] + f.output + f.imports - f.used - f.household \
                - f.investment - f.exports - f.losses
            scale = np.maximum(1.0, np.abs(prev["stock"]))
            worst["err"] = max(worst["err"], float((np.abs(stock - expect) / scale).max()))
        prev["stock"] = stock
        assert np.all((f.met >= 0) & (f.met <= 1))

    res = simulate(eco, SimParams(demand_noise=min(noise, 0.5)), 40, shocks=tuple(shocks),
                   policies=tuple(policies), seed=seed, planner=fallback_plan, on_day=check)
    assert worst["err"] < 1e-9
    assert res.max_imbalance < 1e-9


def test_first_day_balance_against_initial_stocks() -> None:
    io = random_io(np.random.default_rng(3), 5)
    eco = build(io)
    from cybersyn.simulate import initial_state

    s0 = initial_state(eco, SimParams())
    seen: list[tuple[State, Flows]] = []
    simulate(eco, SimParams(), 1, shocks=(Shock("transport_cut", 0, 5, 0.7),),
             on_day=lambda d, s, f: seen.append((s, f)))
    s1, f1 = seen[0]
    np.testing.assert_allclose(s1.stock(eco.rows) - s0.stock(eco.rows), f1.balance(),
                               atol=1e-9 * s0.stock(eco.rows).max())


def test_same_seed_same_result_and_seed_matters() -> None:
    io = random_io(np.random.default_rng(4), 6)
    eco = build(io, district_weight=np.ones(3), affluence=np.array([0, 0.5, 1]))
    p = SimParams(demand_noise=0.05)
    shocks = (Shock("transport_cut", 5, 10, 0.5),)
    a = simulate(eco, p, 30, shocks=shocks, seed=7)
    b = simulate(eco, p, 30, shocks=shocks, seed=7)
    c = simulate(eco, p, 30, shocks=shocks, seed=8)
    assert a.output is not None and b.output is not None and c.output is not None
    np.testing.assert_array_equal(a.output, b.output)
    np.testing.assert_array_equal(a.met, b.met)
    assert not np.array_equal(a.output, c.output)


def test_strike_causes_shortage_and_requisition_reduces_it() -> None:
    io = random_io(np.random.default_rng(5), 6)
    eco = build(io, district_weight=np.ones(2))
    strike = (Shock("transport_cut", 10, 15, 0.6),)
    base = simulate(eco, SimParams(), 40)
    hit = simulate(eco, SimParams(), 40, shocks=strike)
    helped = simulate(eco, SimParams(), 40, shocks=strike,
                      policies=(Policy("requisition", 10, 15, 0.5),))
    def short(r: object) -> float:
        return float((r.household_requested_value - r.household_value).sum())  # type: ignore
    assert short(base) == pytest.approx(0.0, abs=1e-6)
    assert short(hit) > short(helped) > 0
    # transport capacity during the strike: 40% of normal, then 40% + 0.5 * 60%
    assert hit.transport_capacity[12] == pytest.approx(0.4 * base.transport_capacity[12])
    assert helped.transport_capacity[12] == pytest.approx(0.7 * base.transport_capacity[12])


def test_rationing_equalises_districts_and_hoarding_does_not() -> None:
    io = random_io(np.random.default_rng(6), 5)
    eco = build(io, district_weight=np.array([1.0, 2.0, 1.0]),
                affluence=np.array([0.0, 0.5, 1.0]))
    strike = (Shock("transport_cut", 5, 10, 0.6),)
    free = simulate(eco, SimParams(hoarding=0.6), 20, shocks=strike)
    rationed = simulate(eco, SimParams(hoarding=0.6), 20, shocks=strike,
                        policies=(Policy("rationing", 0, 30),))
    day = 10
    assert free.met[day, 0] < free.met[day, 2]            # the poor district gets less
    np.testing.assert_allclose(rationed.met[day], rationed.met[day, 0], rtol=1e-9)
    assert rationed.met[day].min() > free.met[day].min()


def test_lockout_and_cordones() -> None:
    io = random_io(np.random.default_rng(7), 4)
    eco = build(io)
    lock = (Shock("lockout", 5, 20, 1.0, products=(0,)),)
    stopped = simulate(eco, SimParams(finished_cover_days=0.0), 30, shocks=lock)
    restarted = simulate(eco, SimParams(finished_cover_days=0.0), 30, shocks=lock,
                         policies=(Policy("cordones", size=0.8, after_days=3),))
    assert stopped.output is not None and restarted.output is not None
    assert stopped.output[10, 0] == pytest.approx(0.0, abs=1e-12)
    assert restarted.output[10, 0] > 0.5 * restarted.output[0, 0]


def test_missing_spare_parts_wear_capacity_down() -> None:
    io = random_io(np.random.default_rng(8), 4, density=1.0)
    eco = build(io, import_share=np.array([0.9, 0, 0, 0]), spare_parts=0)
    res = simulate(eco, SimParams(degrade_per_day=0.05), 40,
                   shocks=(Shock("import_blockade", 0, 40, 1.0, products=(0,)),))
    assert res.final.health.min() < 0.9


@pytest.mark.parametrize("kwargs", [
    {"adjust_days": 0.5}, {"transport_headroom": 0.9}, {"absenteeism": 1.0},
    {"input_cover_days": -1.0}, {"degrade_per_day": 2.0}])
def test_params_are_validated(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Expected"):
        SimParams(**kwargs)


def test_shock_and_policy_validation() -> None:
    with pytest.raises(ValueError, match="Expected shock kind"):
        Shock("earthquake", 0, 1, 0.5)
    with pytest.raises(ValueError, match="Expected products"):
        Shock("lockout", 0, 1, 0.5)
    with pytest.raises(ValueError, match="rationing rule"):
        Policy("rationing", rule="lottery")
