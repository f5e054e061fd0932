"""An in-process client of the intake+alerts app on the demo store."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from cybersyn.intake.server import build_app
from cybersyn.store import Store

with warnings.catch_warnings():
    # starlette asks for httpx2 in place of httpx; the client works the same
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def client(demo_store: Store) -> Iterator[Any]:
    with TestClient(build_app(demo_store)) as c:
        yield c
