"""``parse_date`` (src/engineio_session/_js.py) against Node's ``new Date(text)``: the expiry
every handshake checks is read as express-session's Cookie reads it back from a store.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engineio_session._js import parse_date

from . import node

# the form Date.prototype.toJSON writes, and its neighbours on both sides of each rule (ES's
# date time string format; the forms only V8's legacy parser reads, "2026-12-02 10:06Z" or
# "Dec 2 2026", and a time with no zone, read in the local time zone, are not read here)
CASES = [
    "2026-12-02T10:06:02.019Z",
    "2024-02-29T23:59:59.999Z",
    "2023-02-29T00:00:00.000Z",
    "2026-12-31T24:00:00.000Z",
    "2026-12-31T24:00:00.001Z",
    "2026-12-31T23:60:00.000Z",
    "2026-12-31T23:59:60.000Z",
    "2026-12-31T23:59:59.99Z",
    "2026-12-31T23:59:59.9999Z",
    "2026-12-31T23:59:59Z",
    "2026-12-31T23:59Z",
    "2026-12-31",
    "2026-12",
    "2026",
    "2026-04-32T00:00:00.000Z",
    "2026-02-00T00:00:00.000Z",
    "2026-02-31T00:00:00.000Z",
    "2026-02-30T24:00:00.000Z",
    "2026-04-31T00:00Z",
    "+275760-09-13T00:00:00.000Z",
    "+275760-09-13T00:00:00.001Z",
    "2026-12-31T23:59:59.999999999Z",
    "2026-12-31T23:59:59.1234567890123Z",
    "2026-12-31T23:59:59.Z",
    "2026-13-01T00:00:00.000Z",
    "2026-00-10T00:00:00.000Z",
    "2026-04-31T00:00:00.000Z",
    "0000-01-01T00:00:00.000Z",
    "+010000-01-01T00:00:00.000Z",
    "-000001-01-01T00:00:00.000Z",
    "-000000-01-01T00:00:00.000Z",
    "2026-12-02T10:06:02.019+01:00",
    "2026-12-02T10:06:02.019-00:30",
    "2026-12-02T10:06:0\u0662.019Z",
    "\uff12026-12-02T10:06:02.019Z",
    "2026-12-02T1\u00b2:06:02.019Z",
    "2026-12-02T10:06:02.01\u00b2Z",
    "2026-12-02T10:06:02,019Z",
    "2026-12-02T10-06:02.019Z",
    "",
]


def node_values(texts: list[str]) -> list[Any]:
    return [answer["result"] for answer in node.answers("dateValue", [{"text": t} for t in texts])]


def ours(text: str) -> Any:
    value = parse_date(text)
    return None if math.isnan(value) else value


def test_the_edges_of_each_rule_read_as_node_reads_them() -> None:
    assert [ours(text) for text in CASES] == node_values(CASES)


def json_dates() -> st.SearchStrategy[str]:
    """toJSON's form with each field drawn across and beyond its range (two digits where
    it has two), so both the fast path and the general one are walked."""
    two = st.integers(0, 99).map(lambda n: f"{n:02d}")
    return st.builds(
        lambda y, mo, d, h, mi, s, ms: f"{y:04d}-{mo}-{d}T{h}:{mi}:{s}.{ms:03d}Z",
        st.integers(0, 9999),
        two,
        two,
        two,
        two,
        two,
        st.integers(0, 999),
    )


@settings(max_examples=1, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(json_dates(), min_size=300, max_size=300))
def test_any_date_in_the_json_form_reads_as_node_reads_it(texts: list[str]) -> None:
    assert [ours(text) for text in texts] == node_values(texts)
