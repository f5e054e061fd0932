"""Tables of the councils: councils, members and their seats, sessions, login failures,
proposals, votes, outcomes, approvals (a plan version across councils), and the stored
rounds of participatory planning. Times are aware UTC (`UTCDateTime`)."""

from __future__ import annotations

import sqlalchemy as sa

from cybersyn.store.schema import UTCDateTime, metadata

_ID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

councils = sa.Table(
    "councils", metadata,
    sa.Column("id", sa.String(128), primary_key=True, comment="= the unit id"),
    sa.Column("unit_id", sa.String(128), nullable=False, unique=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("level", sa.String(32), nullable=False),
    sa.Column("worker_seats", sa.Integer, nullable=False),
    sa.Column("government_seats", sa.Integer, nullable=False),
    sa.Column("rules", sa.Text, nullable=False, comment="JSON of VoteRules"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

members = sa.Table(
    "council_members", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(256), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, comment="member | planner"),
    sa.Column("password_hash", sa.String(256), nullable=True, comment="argon2id; NULL = none"),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

seats = sa.Table(
    "council_seats", metadata,
    sa.Column("council_id", sa.String(128), sa.ForeignKey("councils.id"), primary_key=True),
    sa.Column("member_id", sa.String(64), sa.ForeignKey("council_members.id"),
              primary_key=True),
    sa.Column("side", sa.String(16), nullable=False, comment="worker | government"),
    sa.Column("chair", sa.Boolean, nullable=False),
    sa.Column("how", sa.String(16), nullable=False, comment="elected | appointed"),
    sa.Column("term_start", UTCDateTime, nullable=False),
    sa.Column("term_end", UTCDateTime, nullable=True, comment="NULL = until recalled"),
    sa.Column("assembly", sa.Text, nullable=True, comment="JSON tally of the election"),
)

sessions = sa.Table(
    "council_sessions", metadata,
    sa.Column("token_digest", sa.String(64), primary_key=True),
    sa.Column("member_id", sa.String(64), sa.ForeignKey("council_members.id"),
              nullable=False, index=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
)

login_failures = sa.Table(
    "council_login_failures", metadata,
    sa.Column("username", sa.String(64), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("last_failure_at", UTCDateTime, nullable=False),
    sa.Column("locked_until", UTCDateTime, nullable=True),
)

approvals = sa.Table(
    "council_approvals", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("subject", sa.String(256), nullable=False, comment="plan/<id> or rounds/<id>"),
    sa.Column("plan_version_id", sa.String(64), nullable=True, index=True),
    sa.Column("status", sa.String(16), nullable=False, comment="open | approved | rejected"),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("decided_at", UTCDateTime, nullable=True),
)

proposals = sa.Table(
    "council_proposals", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("council_id", sa.String(128), sa.ForeignKey("councils.id"), nullable=False,
              index=True),
    sa.Column("approval_id", _ID, sa.ForeignKey("council_approvals.id"), nullable=True,
              index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("title", sa.String(256), nullable=False),
    sa.Column("body", sa.Text, nullable=False, comment="JSON: targets, amounts, ..."),
    sa.Column("plan_version_id", sa.String(64), nullable=True),
    sa.Column("rules", sa.Text, nullable=False, comment="JSON of VoteRules when opened"),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, comment="open | closed"),
    sa.Column("opened_by", sa.String(64), nullable=False),
    sa.Column("opened_at", UTCDateTime, nullable=False),
    sa.Column("closes_at", UTCDateTime, nullable=False),
)

votes = sa.Table(
    "council_votes", metadata,
    sa.Column("proposal_id", _ID, sa.ForeignKey("council_proposals.id"), primary_key=True),
    sa.Column("member_id", sa.String(64), sa.ForeignKey("council_members.id"),
              primary_key=True),
    sa.Column("side", sa.String(16), nullable=False),
    sa.Column("choice", sa.String(8), nullable=False),
    sa.Column("counter", sa.Text, nullable=True, comment="JSON counter-proposal with a no"),
    sa.Column("cast_at", UTCDateTime, nullable=False),
    sa.Column("changes", sa.Integer, nullable=False, server_default="0"),
)

outcomes = sa.Table(
    "council_outcomes", metadata,
    sa.Column("proposal_id", _ID, sa.ForeignKey("council_proposals.id"), primary_key=True),
    sa.Column("result", sa.String(16), nullable=False),
    sa.Column("yes", sa.Integer, nullable=False),
    sa.Column("no", sa.Integer, nullable=False),
    sa.Column("abstain", sa.Integer, nullable=False),
    sa.Column("seats", sa.Integer, nullable=False),
    sa.Column("quorum", sa.Integer, nullable=False),
    sa.Column("reason", sa.String(256), nullable=False),
    sa.Column("counter_proposals", sa.Text, nullable=False, comment="JSON list"),
    sa.Column("decided_at", UTCDateTime, nullable=False),
    sa.Column("audit_seq", sa.BigInteger, nullable=False),
)

planning_runs = sa.Table(
    "council_planning_runs", metadata,
    sa.Column("id", _ID, primary_key=True, autoincrement=True),
    sa.Column("economy", sa.String(128), nullable=False),
    sa.Column("params", sa.Text, nullable=False, comment="JSON of ParticipatoryParams"),
    sa.Column("product_codes", sa.Text, nullable=False, comment="JSON list"),
    sa.Column("converged", sa.Boolean, nullable=False),
    sa.Column("rounds", sa.Integer, nullable=False),
    sa.Column("gap_pct", sa.Float, nullable=True),
    sa.Column("labour_gap_pct", sa.Float, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

planning_rounds = sa.Table(
    "council_planning_rounds", metadata,
    sa.Column("run_id", _ID, sa.ForeignKey("council_planning_runs.id"), primary_key=True),
    sa.Column("number", sa.Integer, primary_key=True),
    sa.Column("max_excess", sa.Float, nullable=False, comment="share, max |z|/s"),
    sa.Column("labour_hours", sa.Float, nullable=False),
    sa.Column("prices", sa.Text, nullable=False, comment="JSON, hours per unit"),
    sa.Column("outputs", sa.Text, nullable=False, comment="JSON, units per year"),
    sa.Column("household_demand", sa.Text, nullable=False, comment="JSON, units per year"),
    sa.Column("excess", sa.Text, nullable=False, comment="JSON, units per year"),
)

COUNCILS_TABLES = (councils, members, seats, sessions, login_failures, approvals, proposals,
                   votes, outcomes, planning_runs, planning_rounds)
