"""One settings object read from `CYBERSYN_*` environment variables (CLI flags override)."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///./cybersyn.db"


@dataclass(frozen=True)
class Settings:
    """Runtime configuration.

    database_url: SQLAlchemy URL; `postgresql://` is read as psycopg 3.
    data_dir: the shared real data sets (BEA, NAB, ...), used by benchmarks and `init --bea`.
    host, port: where `serve` and `demo` listen.
    """

    database_url: str = DEFAULT_DATABASE_URL
    data_dir: Path = Path("../shared/data")
    host: str = "127.0.0.1"
    port: int = 8000

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"Expected port in 1..65535, got {self.port}.")
        if not self.database_url:
            raise ValueError("Expected a database URL, got an empty string.")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        base = cls()
        try:
            port = int(env.get("CYBERSYN_PORT", base.port))
        except ValueError:
            bad = env["CYBERSYN_PORT"]
            raise ValueError(f"CYBERSYN_PORT must be an integer, got {bad!r}.") from None
        return cls(
            database_url=env.get("CYBERSYN_DATABASE_URL", base.database_url),
            data_dir=Path(env.get("CYBERSYN_DATA", str(base.data_dir))),
            host=env.get("CYBERSYN_HOST", base.host),
            port=port,
        )

    def with_overrides(self, **changes: object) -> Settings:
        """A copy with the given non-None fields replaced (CLI flags)."""
        given: dict[str, Any] = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **given)
