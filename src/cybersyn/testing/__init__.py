"""Semantic test helpers that the tests and users' own checks share.

Each package adds `cybersyn/testing/<package>.py` and one re-export line below.
"""
from cybersyn.testing.plan import assert_plan_feasible as assert_plan_feasible
from cybersyn.testing.store import private_pg_schema as private_pg_schema
from cybersyn.testing.supply import assert_ledger_balanced as assert_ledger_balanced
