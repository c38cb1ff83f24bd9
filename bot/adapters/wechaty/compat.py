"""Makes python-wechaty 0.10.7 importable on Python 3.11 (shared/WECHATY.md has the details).

Import this module before `wechaty`; `check()` confirms at start-up that it worked.
"""

from __future__ import annotations

import os
from pathlib import Path

_applied = False


def apply(cache_dir: Path) -> None:
    """Each fix is needed by the SDK's dependencies as they are today."""
    global _applied
    if _applied:
        return
    # Read at import: "error" keeps the SDK quiet; its "silly" would mean CRITICAL.
    os.environ.setdefault("WECHATY_LOG", "error")
    # Otherwise wechaty creates ./.wechaty/job.db wherever the bot was started.
    cache_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("CACHE_DIR", str(cache_dir))

    import pyee

    if not hasattr(pyee, "AsyncIOEventEmitter"):  # pyee ≥ 12 moved it
        from pyee.asyncio import AsyncIOEventEmitter

        pyee.AsyncIOEventEmitter = AsyncIOEventEmitter  # type: ignore[attr-defined]

    import urllib3.util

    if not hasattr(urllib3.util, "get_host"):  # urllib3 ≥ 2 removed it
        def get_host(url: str) -> tuple[str, str | None, int | None]:
            parsed = urllib3.util.parse_url(url)
            return parsed.scheme or "http", parsed.hostname, parsed.port

        urllib3.util.get_host = get_host  # type: ignore[attr-defined]

    # A non-frozen dataclass used as a mutable default: Python 3.11 refuses it at import.
    from wechaty_puppet.schemas import puppet

    puppet.PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]
    _applied = True


def check() -> None:
    """Raise a clear error if the SDK still cannot be imported."""
    try:
        import wechaty_puppet_service  # noqa: F401
    except Exception as exc:  # pragma: no cover - depends on the installed packages
        raise RuntimeError(
            f"python-wechaty cannot be imported ({exc!r}); install the pinned versions with "
            "pip install -e '.[wechaty]'"
        ) from exc
