"""Supply (JAP) API under /api/v1/supply: districts, points, registry and review queue,
entitlements, allocation, ledger movements (idempotent hand-outs), reconciliation, findings,
price reports, route plans (JSON and PNG plot).

Access (`cybersyn.supply.access`): districts, points, official prices and route plans are
public, and citizens' price reports need no token. Everything else needs a principal
(`Authorization: Bearer <token>` or the Opsroom's session cookie): registry, entitlements,
review queue, movements, reconciliation and findings of a district only for its supply
committee (operators and members whose units contain the district id), planners and
admins; national operations for planners and admins.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import sqlalchemy as sa
from fastapi import APIRouter, Header, Query, Request, Response
from pydantic import BaseModel, Field

from cybersyn.auth import Principal
from cybersyn.errors import Forbidden, InvalidInput
from cybersyn.store import Store
from cybersyn.supply import access, handouts, ledger, plans
from cybersyn.supply import tables as t
from cybersyn.supply.allocation import RULES, allocate
from cybersyn.supply.findings import detect, list_findings, report_price
from cybersyn.supply.plot import save_route_plot
from cybersyn.supply.reconcile import reconcile, reconcile_and_record

router = APIRouter(prefix="/supply", tags=["supply"])
WRITERS = ("operator", "member", "planner", "admin")
Period = Annotated[str, Query(pattern=r"^\d{4}-\d{2}$", description="YYYY-MM")]
MAX_CELLS = 2_000_000


def _store(request: Request) -> Store:
    return request.app.state.store  # type: ignore[no-any-return]


def _writer(request: Request) -> Principal:
    """A principal that may change supply records (401 without, 403 other kinds)."""
    who = access.principal(request)
    if who.kind not in WRITERS:
        raise Forbidden(f"a {who.kind} may not change supply records")
    return who


def _actor(who: Principal) -> str:
    return f"{who.kind}:{who.id}"


def _writer_at_point(request: Request, point: str, what: str) -> str:
    """The actor's name, if it may `what` at `point` (its district's committee or office)."""
    who = _writer(request)
    if not access.is_office(who):
        with _store(request).read() as conn:
            access.require_district(who, ledger.district_of_point(conn, point), what)
    return _actor(who)


def _viewer_districts(request: Request, what: str, district: str | None = None,
                      point: str | None = None) -> frozenset[str] | None:
    """The districts a read is limited to (None = all, for the office): the one asked
    for (`district`, or `point`'s) if the caller may see it, else all of the caller's."""
    who = access.principal(request)
    with _store(request).read() as conn:
        mine = access.require_some_district(who, what, ledger.district_ids(conn))
        if point is not None:
            district = ledger.district_of_point(conn, point)
    if district is None:
        return mine
    access.require_district(who, district, what)
    return frozenset({district})


def _now() -> datetime:
    return datetime.now(UTC)


def _period(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m")


# -- registry ----------------------------------------------------------------------------
@router.get("/districts")
def list_districts(request: Request) -> list[dict[str, Any]]:
    """Each district (one committee) with its registered households and points."""
    with _store(request).read() as conn:
        return ledger.district_summary(conn)


@router.get("/points")
def list_points(request: Request, district: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(t.points).order_by(t.points.c.id)
    if district:
        q = q.where(t.points.c.district_id == district)
    with _store(request).read() as conn:
        return [r._asdict() for r in conn.execute(q)]


@router.get("/goods")
def list_goods(request: Request) -> list[dict[str, Any]]:
    """Rationed goods with their official prices (integer cents per ration unit): public,
    so that anyone can see when a shop asks more."""
    with _store(request).read() as conn:
        return [r._asdict() for r in conn.execute(sa.select(t.goods).order_by(t.goods.c.code))]


class PointIn(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    district_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=256)
    kind: str = Field(default="shop", pattern="^(shop|depot)$")
    x_km: float = 0.0
    y_km: float = 0.0


@router.post("/points", status_code=201)
def add_point(request: Request, body: PointIn) -> dict[str, Any]:
    who = _writer(request)
    access.require_district(who, body.district_id, "add distribution points")
    actor = _actor(who)
    with _store(request).write() as conn:
        if conn.execute(sa.select(t.points.c.id).where(t.points.c.id == body.id)).first():
            raise InvalidInput(f"point {body.id} already exists")
        ledger.add_point(conn, body.id, body.district_id, body.name, body.kind, body.x_km,
                         body.y_km)
    return {**body.model_dump(), "by": actor}


class HouseholdIn(BaseModel):
    card_id: str = Field(min_length=1, max_length=64)
    district_id: str = Field(min_length=1, max_length=64)
    point_id: str = Field(min_length=1, max_length=64)
    head_name: str = Field(min_length=1, max_length=256)
    head_national_id: str = Field(min_length=1, max_length=32)
    members: int = Field(ge=1, le=100)
    children: int = Field(default=0, ge=0, le=100)
    pregnant_or_nursing: int = Field(default=0, ge=0, le=100)
    special_needs: int = Field(default=0, ge=0, le=100)


@router.post("/households", status_code=201)
def register_household(request: Request, body: HouseholdIn) -> dict[str, Any]:
    """Register a household; a probable duplicate is held in the review queue."""
    access.require_district(_writer(request), body.district_id, "register households")
    with _store(request).write() as conn:
        status = ledger.register(conn, ledger.Household(**body.model_dump()), _now())
    return {"card_id": body.card_id, "status": status}


@router.get("/reviews")
def reviews(request: Request, district: str | None = None) -> list[dict[str, Any]]:
    """Open de-duplication reviews of the caller's districts (all for the office)."""
    mine = _viewer_districts(request, "see the review queue", district)
    with _store(request).read() as conn:
        return ledger.open_reviews(conn, mine)


class Decision(BaseModel):
    approve: bool


@router.post("/reviews/{review_id}")
def decide_review(request: Request, review_id: int, body: Decision) -> dict[str, Any]:
    who = _writer(request)
    with _store(request).write() as conn:
        access.require_district(who, ledger.district_of_review(conn, review_id),
                                "decide reviews")
        ledger.resolve_review(conn, review_id, body.approve, _actor(who), _now())
    return {"review": review_id, "approved": body.approve}


# -- entitlements and allocation ------------------------------------------------------------
@router.get("/entitlements/{card}")
def entitlements(request: Request, card: str, period: Period) -> dict[str, Any]:
    """A household's entitlements: its district's committee and the office only."""
    who = access.principal(request)
    with _store(request).read() as conn:
        access.require_some_district(who, "see households' entitlements",
                                     ledger.district_ids(conn))
        access.require_district(who, ledger.district_of_card(conn, card),
                                "see households' entitlements")
        return {"card_id": card, "period": period, "goods": ledger.remaining(conn, card, period)}


@router.post("/entitlements/issue")
def issue(request: Request, period: Period, district: str | None = None) -> dict[str, Any]:
    """Issue the period's entitlements of one district (its committee) or of all (office)."""
    who = _writer(request)
    if district is None:
        access.require_office(who, "issue every district's entitlements")
    else:
        access.require_district(who, district, "issue entitlements")
    with _store(request).write() as conn:
        n = ledger.issue_entitlements(conn, period, district)
    return {"period": period, "created": n}


class AllocationIn(BaseModel):
    claims: list[list[float]] = Field(description="(n_households, n_goods)")
    supply: list[float] = Field(description="(n_goods,)")
    rule: str = Field(default="proportional", description=f"one of {', '.join(RULES)}")
    priority: list[int] | None = None
    integer: bool = False


@router.post("/allocation")
def allocation(request: Request, body: AllocationIn) -> dict[str, Any]:
    """Allocate `supply` among `claims` with priority classes and a claims rule (up to
    2·10⁶ cells of computation: any authenticated principal)."""
    access.principal(request)
    try:
        c = np.asarray(body.claims, dtype=float)
        if c.ndim != 2 or c.size > MAX_CELLS:
            raise ValueError("Expected claims as a non-empty (n_households, n_goods) table "
                             f"of at most {MAX_CELLS} cells.")
        if len(body.supply) != c.shape[1]:
            raise ValueError("Expected one supply value per good (column of claims).")
        prio = None if body.priority is None else np.asarray(body.priority)
        awards = allocate(c, np.asarray(body.supply), body.rule, prio, body.integer)
    except ValueError as e:
        raise InvalidInput(str(e)) from None
    return {"rule": body.rule, "awards": awards.tolist(),
            "met_pct": (100 * awards.sum(0) / np.maximum(c.sum(0), 1e-12)).round(2).tolist()}


# -- ledger ------------------------------------------------------------------------------
class Movement(BaseModel):
    key: str | None = Field(default=None, max_length=128,
                            description="idempotency key (or the Idempotency-Key header)")
    point: str = Field(max_length=64)
    good: str = Field(max_length=64)
    quantity: int = Field(gt=0)
    at: datetime | None = None


class HandOutIn(Movement):
    card: str = Field(max_length=64)


class TransferIn(Movement):
    to_point: str = Field(max_length=64)


class LossIn(Movement):
    reason: str = Field(min_length=1, max_length=256)


class CountIn(Movement):
    quantity: int = Field(ge=0)


def _key(body: Movement, header: str | None) -> str:
    key = body.key or header
    if not key:
        raise InvalidInput("an idempotency key is required (field 'key' or header "
                           "Idempotency-Key)")
    return key


def _when(body: Movement) -> datetime:
    if body.at is not None and body.at.tzinfo is None:
        raise InvalidInput("at: give a time zone (UTC)")
    return body.at or _now()


IdemHeader = Annotated[str | None, Header(alias="Idempotency-Key", max_length=128)]


@router.post("/handouts", status_code=201)
def hand_out(request: Request, response: Response, body: HandOutIn,
             idem: IdemHeader = None) -> dict[str, Any]:
    """Hand goods to a household card; refused (422) beyond its remaining entitlement;
    a retry with the same key answers 200 with the first result and changes nothing.
    Concurrent hand-outs share a commit (group commit); each is answered after it."""
    actor = _writer_at_point(request, body.point, "hand out")
    at = _when(body)
    h = handouts.submit(_store(request), handouts.HandOutRequest(
        _key(body, idem), body.card, body.good, body.quantity, body.point, _period(at), at,
        actor))
    if h.replayed:
        response.status_code = 200
    return {"id": h.id, "card": h.card_id, "good": h.good, "quantity": h.quantity,
            "remaining": h.remaining, "replayed": h.replayed}


def _simple(request: Request, body: Movement, idem: str | None, kind: str) -> dict[str, Any]:
    actor = _writer_at_point(request, body.point, f"record a {kind}")
    at = _when(body)
    key, period = _key(body, idem), _period(at)
    with _store(request).write() as conn:
        if kind == "receive":
            mid = ledger.receive(conn, key, body.point, body.good, body.quantity, period, at,
                                 actor)
        elif kind == "transfer":
            assert isinstance(body, TransferIn)
            mid = ledger.transfer(conn, key, body.point, body.to_point, body.good,
                                  body.quantity, period, at, actor)
        elif kind == "loss":
            assert isinstance(body, LossIn)
            mid = ledger.declare_loss(conn, key, body.point, body.good, body.quantity,
                                      body.reason, period, at, actor)
        else:
            mid = ledger.count_stock(conn, key, body.point, body.good, body.quantity, period,
                                     at, actor)
    return {"id": mid, "kind": kind, "period": period}


@router.post("/receipts", status_code=201)
def receipt(request: Request, body: Movement, idem: IdemHeader = None) -> dict[str, Any]:
    return _simple(request, body, idem, "receive")


@router.post("/transfers", status_code=201)
def transfer(request: Request, body: TransferIn, idem: IdemHeader = None) -> dict[str, Any]:
    return _simple(request, body, idem, "transfer")


@router.post("/losses", status_code=201)
def loss(request: Request, body: LossIn, idem: IdemHeader = None) -> dict[str, Any]:
    return _simple(request, body, idem, "loss")


@router.post("/counts", status_code=201)
def count(request: Request, body: CountIn, idem: IdemHeader = None) -> dict[str, Any]:
    return _simple(request, body, idem, "count")


@router.get("/reconciliation")
def reconciliation(request: Request, period: Period, point: str | None = None,
                   district: str | None = None) -> dict[str, Any]:
    """Books of the caller's districts (or one district or point of theirs; all for the
    office): rows and discrepancies."""
    mine = _viewer_districts(request, "see reconciliations", district, point)
    with _store(request).read() as conn:
        rec = reconcile(conn, period, point, None if point else mine)
    return {"period": period, "balanced": rec.balanced, "rows": rec.rows,
            "discrepancies": rec.discrepancies}


@router.post("/reconciliation")
def record_reconciliation(request: Request, period: Period) -> dict[str, Any]:
    """Reconcile and write the outcome (with a digest of the journal) to the audit log
    (the national record: planners and admins)."""
    who = _writer(request)
    access.require_office(who, "record the national reconciliation")
    with _store(request).write() as conn:
        rec = reconcile_and_record(conn, period, _actor(who), _now())
    return {"period": period, "balanced": rec.balanced, "discrepancies": rec.discrepancies}


# -- findings ----------------------------------------------------------------------------
@router.get("/findings")
def findings(request: Request, period: str | None = Query(None, pattern=r"^\d{4}-\d{2}$"),
             district: str | None = None) -> list[dict[str, Any]]:
    """Diversion and price findings at the caller's districts' points (all for the office):
    they accuse people, so never public."""
    mine = _viewer_districts(request, "see findings", district)
    with _store(request).read() as conn:
        return list_findings(conn, period, mine)


@router.post("/findings")
def run_detection(request: Request, period: Period) -> list[dict[str, Any]]:
    """Run detection over every district (peers are compared nationally): office only."""
    who = _writer(request)
    access.require_office(who, "run detection")
    with _store(request).write() as conn:
        return detect(conn, period, _actor(who), _now())


class PriceReportIn(BaseModel):
    point: str = Field(max_length=64)
    good: str = Field(max_length=64)
    price_cents: int = Field(gt=0)
    reporter: str = Field(default="citizen", max_length=128)


@router.post("/price-reports", status_code=201)
def price_report(request: Request, body: PriceReportIn) -> dict[str, Any]:
    """A citizen's report of the price paid (no token needed)."""
    with _store(request).write() as conn:
        rid = report_price(conn, body.point, body.good, body.price_cents, body.reporter,
                           _now())
    return {"id": rid}


# -- routes ------------------------------------------------------------------------------
@router.get("/routes")
def routes(request: Request) -> list[dict[str, Any]]:
    with _store(request).read() as conn:
        return plans.list_plans(conn)


@router.get("/routes/{plan_id}")
def route_plan(request: Request, plan_id: int) -> dict[str, Any]:
    with _store(request).read() as conn:
        return plans.get_plan(conn, plan_id)


@router.get("/routes/{plan_id}/plot.png", response_class=Response)
def route_plot(request: Request, plan_id: int) -> Response:
    with _store(request).read() as conn:
        plan = plans.get_plan(conn, plan_id)
    xy, r, _ids = plans.plan_routes(plan)
    with tempfile.TemporaryDirectory() as d:
        path = save_route_plot(xy, r, Path(d) / "plot.png", f"{plan['name']}: "
                               f"{plan['trucks_used']} trucks, {plan['points_unserved']} "
                               "points unserved")
        return Response(path.read_bytes(), media_type="image/png")
