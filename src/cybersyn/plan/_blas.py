"""Limit OpenBLAS to one thread while a loop of small BLAS calls runs.

numpy's and scipy's bundled OpenBLAS libraries thread every level-1 call (a dot product of
10⁵ numbers); on a shared, oversubscribed machine the threads wait on each other, and
L-BFGS-B's inner products at n = 10⁵ took 0.23 s per iteration instead of ~0.01 s. This is
what threadpoolctl does, for the OpenBLAS builds that numpy and scipy ship (Linux: found in
/proc/self/maps); elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

_NAMES = ("scipy_openblas", "openblas")
_SUFFIXES = ("64_", "")


Call = Callable[..., int]


def _openblas() -> list[tuple[Call, Call]]:
    """(get, set) thread-count functions of every OpenBLAS library loaded in this process."""
    maps = Path("/proc/self/maps")
    if not maps.exists():
        return []
    paths = {line.split()[-1] for line in maps.read_text().splitlines()
             if "openblas" in line.lower() and line.split()[-1].startswith("/")}
    found: list[tuple[Call, Call]] = []
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in _NAMES:
            for suffix in _SUFFIXES:
                get = getattr(lib, f"{name}_get_num_threads{suffix}", None)
                put = getattr(lib, f"{name}_set_num_threads{suffix}", None)
                if get is not None and put is not None:
                    found.append((get, put))
                    break
            else:
                continue
            break
    return found


@contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Run the block with OpenBLAS limited to n threads, then restore the previous counts."""
    libs = _openblas()
    before = [int(get()) for get, _ in libs]
    try:
        for _, put in libs:
            put(n)
        yield
    finally:
        for (_, put), k in zip(libs, before, strict=True):
            put(k)
