"""Batch validation (pure): every bad row and field named, good rows parsed exactly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cybersyn.intake.validate import check_columns, check_rows

NOW = datetime(1972, 10, 9, 12, tzinfo=UTC)
KNOWN = {"a.output", "b.stock"}.__contains__
HOUR = timedelta(hours=1)


def check(rows, first=0):
    return check_rows(rows, KNOWN, NOW, HOUR, first)


def test_good_rows_parsed():
    out = check([{"indicator": "a.output", "time": "1972-10-09T00:00:00Z", "value": 3},
                 {"indicator": "b.stock", "time": "1972-10-09", "value": "2.5"},
                 {"indicator": "a.output", "time": "1972-10-09T01:00:00-03:00", "value": 1.5}])
    assert out.errors == []
    assert out.rows == [("a.output", datetime(1972, 10, 9, tzinfo=UTC), 3.0),
                        ("b.stock", datetime(1972, 10, 9, tzinfo=UTC), 2.5),
                        ("a.output", datetime(1972, 10, 9, 4, tzinfo=UTC), 1.5)]


def test_every_bad_row_and_field_named():
    rows = [
        {"indicator": "zzz", "time": "1972-10-09T00:00:00Z", "value": 1},       # 0 unknown
        {"indicator": "a.output", "time": "1972-10-09T00:00:00Z", "value": "NaN"},  # 1
        {"indicator": "a.output", "time": "1972-10-10T00:00:00Z", "value": 1},  # 2 future
        {"indicator": "b.stock", "time": "1972-10-09T00:00:00", "value": 1},    # 3 naive
        {"indicator": "b.stock", "time": "1972-10-09T00:00:00Z", "value": 1},   # 4 ok
        {"indicator": "b.stock", "time": "1972-10-09T00:00:00+00:00", "value": 2},  # 5 dup
        [1, 2, 3],                                                              # 6
        {"indicator": 7, "time": 5, "value": True, "extra": 1},                 # 7
        {"indicator": "a.output", "value": float("inf")},                        # 8
    ]
    out = check(rows, first=2)
    got = {(e["row"], e["field"]) for e in out.errors}
    assert got == {(2, "indicator"), (3, "value"), (4, "time"), (5, "time"), (7, "time"),
                   (8, ""), (9, "indicator"), (9, "time"), (9, "value"), (9, "extra"),
                   (10, "time"), (10, "value")}
    reasons = {(e["row"], e["field"]): e["reason"] for e in out.errors}
    assert "unknown indicator" in reasons[(2, "indicator")]
    assert "not finite" in reasons[(3, "value")]
    assert "future" in reasons[(4, "time")]
    assert "offset" in reasons[(5, "time")]
    assert "duplicate" in reasons[(7, "time")] and "row 6" in reasons[(7, "time")]
    assert [r[0] for r in out.rows] == ["b.stock"]


def test_error_list_is_capped():
    rows = [{"indicator": "zzz", "time": "1972-10-09", "value": 1}] * 50
    assert len(check_rows(rows, KNOWN, NOW, HOUR, 0, max_errors=10).errors) == 10


values = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**6, 10**6),
                   st.text(max_size=5), st.booleans(), st.none())
times = st.one_of(st.sampled_from(["1972-10-09", "1972-10-09T00:00:00Z", "1972-10-09T00:00",
                                   "1999-01-01T00:00:00Z", "x"]), st.integers())
raw_row = st.fixed_dictionaries({"indicator": st.sampled_from(["a.output", "b.stock", "q"]),
                                 "time": times, "value": values})


@settings(deadline=None, max_examples=200)
@given(st.lists(raw_row, max_size=12))
def test_partition_of_rows(rows):
    """Each row is either parsed or named in an error, never both, never neither."""
    out = check(rows)
    bad = {e["row"] for e in out.errors}
    assert len(out.rows) + len(bad) == len(rows)
    keys = [(i, t) for i, t, _v in out.rows]
    assert len(keys) == len(set(keys))


good_time = st.sampled_from(["1972-10-09", "1972-10-09T00:00:00Z", "1972-10-09T00:00:00+00:00",
                             "1972-10-09T03:00:00-03:00", "1972-10-09T00:00:00", "1972-10-11",
                             "nope"])
col_row = st.tuples(st.sampled_from(["a.output", "b.stock", "q"]), good_time,
                    st.floats(allow_nan=True, allow_infinity=True))


@settings(deadline=None, max_examples=300)
@given(st.lists(col_row, max_size=10))
def test_columns_fast_path_agrees_with_row_checks(rows):
    """The fast path (columns) accepts exactly the batches the named-error path accepts,
    with the same parsed rows; when it declines, the slow path names the errors."""
    inds, times, values = ([r[k] for r in rows] for k in range(3))
    fast = check_columns(inds, times, values, KNOWN, NOW, HOUR)
    slow = check([{"indicator": i, "time": t, "value": v} for i, t, v in rows])
    if fast is None:
        assert slow.errors
    else:
        assert slow.errors == [] and fast == slow.rows
