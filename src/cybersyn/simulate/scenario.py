"""Scenarios in TOML: labelled at the edge (product codes, district ids, dates), converted here
to the core's integer-indexed arrays and day indices. See docs/simulate.md for the format."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cybersyn.economy.model import Economy
from cybersyn.errors import InvalidInput, NotFound
from cybersyn.simulate import model
from cybersyn.simulate.params import Policy, Shock, SimParams, Variant

BUNDLED = "cybersyn.simulate.scenarios"
SETUP_VECTORS = ("household_share", "export_share", "import_share", "transport_intensity",
                 "spoilage")


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: what economy, when, how long, which shocks, which variants."""

    name: str
    title: str
    description: str
    economy: str
    start: datetime
    days: int
    seed: int
    params: SimParams
    setup: dict[str, Any]
    shocks: tuple[Shock, ...]
    variants: tuple[Variant, ...]
    raw_shocks: tuple[dict[str, Any], ...] = field(default=(), repr=False)

    def dates(self) -> list[datetime]:
        return [self.start + timedelta(days=d) for d in range(self.days)]


def bundled_names() -> list[str]:
    """Names of the scenarios shipped with cybersyn (`october-1972`, ...)."""
    folder = resources.files(BUNDLED)
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".toml"))


def read_scenario_text(ref: str) -> tuple[str, str]:
    """(source name, TOML text) for a bundled name or a path to a .toml file."""
    if ref in bundled_names():
        return ref, (resources.files(BUNDLED) / f"{ref}.toml").read_text(encoding="utf-8")
    path = Path(ref)
    if not path.is_file():
        raise NotFound(f"scenario {ref!r}: no such file and not a bundled scenario "
                       f"(bundled: {', '.join(bundled_names())})")
    return str(path), path.read_text(encoding="utf-8")


def load_scenario(ref: str, economy: Economy) -> Scenario:
    """Read and validate a scenario (bundled name or path) against `economy`."""
    source, text = read_scenario_text(ref)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InvalidInput(f"{source}: not valid TOML: {e}") from e
    return parse_scenario(data, economy, source)


def parse_scenario(data: dict[str, Any], economy: Economy, source: str = "scenario"
                   ) -> Scenario:
    """Validate a scenario given as a dict (parsed TOML or JSON from the API)."""
    try:
        return _parse(data, economy)
    except InvalidInput as e:
        raise InvalidInput(f"{source}: {e.detail}") from e
    except (ValueError, TypeError) as e:
        raise InvalidInput(f"{source}: {e}") from e


def _parse(data: dict[str, Any], economy: Economy) -> Scenario:
    unknown = set(data) - {"name", "title", "description", "economy", "start", "days", "seed",
                           "params", "setup", "shocks", "variants"}
    if unknown:
        raise InvalidInput(f"unknown field(s) {sorted(unknown)}")
    start = _when(data.get("start", "1972-08-01"), "start")
    days = _int(data.get("days", 120), "days", 1, 3650)
    codes = economy.io.index
    shocks = tuple(_shock(s, k, start, codes) for k, s in enumerate(data.get("shocks", [])))
    variants = tuple(_variant(v, k, start, codes)
                     for k, v in enumerate(data.get("variants", [{"name": "base"}])))
    if not variants:
        raise InvalidInput("variants: expected at least one")
    try:
        params = SimParams(**data.get("params", {}))
    except TypeError as e:
        raise InvalidInput(f"params: {e}") from e
    setup = data.get("setup", {})
    _check_setup(setup, economy)
    return Scenario(
        name=str(data.get("name", "scenario")), title=str(data.get("title", "")),
        description=str(data.get("description", "")), economy=str(data.get("economy", "demo")),
        start=start, days=days, seed=_int(data.get("seed", 0), "seed", 0, 2**63 - 1),
        params=params, setup=setup, shocks=shocks, variants=variants,
        raw_shocks=tuple(data.get("shocks", [])))


def _when(value: Any, name: str) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        try:
            return _when(date.fromisoformat(value), name)
        except ValueError:
            pass
    raise InvalidInput(f"{name}: expected a date like 1972-10-09, got {value!r}")


def _int(value: Any, name: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInput(f"{name}: expected an integer in [{lo}, {hi}], got {value!r}")
    return value


def _day(value: Any, start: datetime, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    day = (_when(value, name) - start).days
    if day < 0:
        raise InvalidInput(f"{name}: {value} is before the scenario start {start.date()}")
    return day


def _products(value: Any, codes: Any, name: str) -> tuple[int, ...]:
    if isinstance(value, str):
        value = [value]
    missing = [c for c in value if c not in codes]
    if missing:
        raise InvalidInput(f"{name}: unknown product(s) {missing}")
    return tuple(codes[c] for c in value)


def _shock(raw: dict[str, Any], k: int, start: datetime, codes: Any) -> Shock:
    where = f"shocks[{k}]"
    unknown = set(raw) - {"kind", "start", "days", "size", "products", "note"}
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {sorted(unknown)}")
    try:
        return Shock(kind=str(raw.get("kind")), start=_day(raw.get("start", 0), start, where),
                     days=int(raw.get("days", 1)), size=float(raw.get("size", 0.0)),
                     products=_products(raw.get("products", []), codes, where))
    except ValueError as e:
        raise InvalidInput(f"{where}: {e}") from e


def _policy(raw: dict[str, Any], where: str, start: datetime, codes: Any) -> Policy:
    unknown = set(raw) - {"kind", "start", "days", "size", "products", "rule", "every_days",
                          "after_days", "note"}
    if unknown:
        raise InvalidInput(f"{where}: unknown field(s) {sorted(unknown)}")
    try:
        return Policy(kind=str(raw.get("kind")), start=_day(raw.get("start", 0), start, where),
                      days=int(raw.get("days", 1_000_000)), size=float(raw.get("size", 0.0)),
                      products=_products(raw.get("products", []), codes, where),
                      rule=str(raw.get("rule", "proportional")),
                      every_days=int(raw.get("every_days", 7)),
                      after_days=int(raw.get("after_days", 3)))
    except ValueError as e:
        raise InvalidInput(f"{where}: {e}") from e


def _variant(raw: dict[str, Any], k: int, start: datetime, codes: Any) -> Variant:
    if "name" not in raw:
        raise InvalidInput(f"variants[{k}]: expected a name")
    pols = tuple(_policy(p, f"variants[{k}].policies[{j}]", start, codes)
                 for j, p in enumerate(raw.get("policies", [])))
    return Variant(str(raw["name"]), pols)


def _check_setup(setup: dict[str, Any], economy: Economy) -> None:
    allowed = {*SETUP_VECTORS, "spare_parts", "essential", "affluence"}
    unknown = set(setup) - allowed
    if unknown:
        raise InvalidInput(f"setup: unknown field(s) {sorted(unknown)}")
    for name in SETUP_VECTORS:
        table = setup.get(name, {})
        bad = [c for c in table if c != "default" and c not in economy.io.index]
        if bad:
            raise InvalidInput(f"setup.{name}: unknown product(s) {bad}")
    sp_code = setup.get("spare_parts")
    if sp_code is not None and sp_code not in economy.io.index:
        raise InvalidInput(f"setup.spare_parts: unknown product {sp_code!r}")
    _products(setup.get("essential", []), economy.io.index, "setup.essential")
    known = {d.id for d in economy.districts}
    bad = [d for d in setup.get("affluence", {}) if d not in known]
    if bad:
        raise InvalidInput(f"setup.affluence: unknown district(s) {bad}")


def default_affluence(economy: Economy) -> np.ndarray:
    """A proxy of each district's affluence in [0, 1], shape (d,): rank of its adult share
    (fewer children per person in better-off districts, 1970 census pattern)."""
    if not economy.districts:
        return np.zeros(1)
    adult = np.array([1.0 - d.children / max(d.people, 1) for d in economy.districts])
    ranks = adult.argsort().argsort()
    return ranks / max(len(ranks) - 1, 1)


def sim_economy(scenario: Scenario, economy: Economy) -> model.SimEconomy:
    """The core's arrays for `economy` under the scenario's setup."""
    setup, defaults = scenario.setup, {"household_share": 0.6, "export_share": 0.2,
                                       "import_share": 0.0, "transport_intensity": 1.0,
                                       "spoilage": 0.0}
    vectors = {}
    for name in SETUP_VECTORS:
        table = {"default": defaults[name], **setup.get(name, {})}
        vectors[name] = np.array([float(table.get(c, table["default"]))
                                  for c in economy.io.product_codes])
    weight = np.array([d.households for d in economy.districts], float) if \
        economy.districts else None
    aff = default_affluence(economy) if economy.districts else None
    if aff is not None:
        ids = [d.id for d in economy.districts]
        for did, v in setup.get("affluence", {}).items():
            aff[ids.index(did)] = float(v)
    essential = np.zeros(economy.io.n, bool)
    essential[list(_products(setup.get("essential", []), economy.io.index, "essential"))] = True
    sp_code = setup.get("spare_parts")
    try:
        return model.build(economy.io, district_weight=weight, affluence=aff,
                           spare_parts=-1 if sp_code is None else economy.io.index[sp_code],
                           essential=essential, **vectors)
    except ValueError as e:
        raise InvalidInput(f"setup: {e}") from e
