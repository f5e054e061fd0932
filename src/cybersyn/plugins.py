"""Where the shell finds each package's CLI, API router and demo stage.

A package joins by having the module: `cybersyn.<pkg>.cli` (a `typer.Typer` named `app`),
`cybersyn.<pkg>.api` (a FastAPI `router`), `cybersyn.<pkg>.demo_stage` (functions `on_day`
and/or `finish`, see `cybersyn.loop`). Missing modules are skipped; a module that exists but
fails to import raises, so a broken package is never silently left out.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

PACKAGES = ("intake", "monitor", "alerts", "plan", "councils", "supply", "simulate", "web")
DEMO_ORDER = ("simulate", "intake", "monitor", "alerts", "plan", "councils", "supply")


def find(kind: str, packages: tuple[str, ...] = PACKAGES) -> list[tuple[str, ModuleType]]:
    """[(package, module)] for every package that has `cybersyn.<package>.<kind>`."""
    found = []
    for pkg in packages:
        name = f"cybersyn.{pkg}.{kind}"
        if importlib.util.find_spec(f"cybersyn.{pkg}") is None:
            continue
        if importlib.util.find_spec(name) is not None:
            found.append((pkg, importlib.import_module(name)))
    return found
