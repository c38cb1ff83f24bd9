#!/usr/bin/env python3
"""Machine calibration (stdlib only): lets numbers from another machine be scaled.

Prints one JSON line with medians of 5 rounds:
  py_loop_us        time of sum(range(1000))            (raw interpreter speed)
  asyncio_yield_us  one `await asyncio.sleep(0)`         (event-loop iteration)
  asyncio_task_us   create + await one trivial Task      (task spawn cost)
  to_thread_us      one loop.run_in_executor round-trip  (thread hand-off; both
                    NoneBot's sync dependencies and aiosqlite pay this per call)
"""
import asyncio
import json
import platform
import statistics
import time
import timeit


async def _noop() -> None:
    return None


async def measure() -> dict[str, float]:
    loop = asyncio.get_running_loop()
    out: dict[str, list[float]] = {
        "asyncio_yield_us": [], "asyncio_task_us": [], "to_thread_us": []}
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(20000):
            await asyncio.sleep(0)
        out["asyncio_yield_us"].append((time.perf_counter() - t) / 20000 * 1e6)
        t = time.perf_counter()
        for _ in range(20000):
            await asyncio.create_task(_noop())
        out["asyncio_task_us"].append((time.perf_counter() - t) / 20000 * 1e6)
        t = time.perf_counter()
        for _ in range(1000):
            await loop.run_in_executor(None, int)
        out["to_thread_us"].append((time.perf_counter() - t) / 1000 * 1e6)
    return {k: round(statistics.median(v), 2) for k, v in out.items()}


def main() -> None:
    loop_us = min(timeit.repeat("sum(range(1000))", number=20000, repeat=5)) / 20000 * 1e6
    res = {"bench": "calibrate", "python": platform.python_version(),
           "py_loop_us": round(loop_us, 2), **asyncio.run(measure())}
    print(json.dumps(res))


if __name__ == "__main__":
    main()
