"""The machine's speed, printed beside every bench's figures (stdlib only).

Absolute figures drift between machines and runs (a shared 2-core VM measured the same
code path up to 40% apart); a fixed pure-Python loop timed in the same run lets a reader
scale them. `python bench/calibrate.py` prints the fuller calibration (event loop, threads).
"""

from __future__ import annotations

import platform
import timeit
from typing import Any


def py_loop_us() -> float:
    """Best of 5: one `sum(range(1000))`, in microseconds (about 4-8 us on the 2-core VM)."""
    return round(min(timeit.repeat("sum(range(1000))", number=5000, repeat=5)) / 5000 * 1e6, 2)


def machine() -> dict[str, Any]:
    import os

    return {
        "python": platform.python_version(),
        "platform": f"{platform.system()} {platform.machine()} cpus={os.cpu_count()}",
        "py_loop_us": py_loop_us(),
    }


def line() -> str:
    """One human-readable calibration line."""
    m = machine()
    return f"calibration: python {m['python']}, {m['platform']}, py_loop_us {m['py_loop_us']}"
