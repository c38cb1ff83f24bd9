"""What the running wechaty adapter records for other commands: who runs, logged in or not,
and the rooms the account is in (issue 11, point 5).

The gateway serves one event stream; a second client (say `bot groups` beside a running
bot) would take it from the bot. So the bot writes this small JSON file in its data
folder and `bot groups` reads it while the recording process is alive.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

STATE_FILE = "wechaty-state.json"


@dataclass
class RoomRecord:
    id: str
    name: str
    member_count: int | None = None


@dataclass
class AdapterState:
    pid: int
    host: str
    since: str  # ISO time the process started
    endpoint: str
    logged_in: bool = False
    account_id: str | None = None
    updated: str = ""
    stopped: bool = False
    rooms: list[RoomRecord] = field(default_factory=list)

    @classmethod
    def new(cls, endpoint: str) -> AdapterState:
        return cls(pid=os.getpid(), host=socket.gethostname(), since=_now(), endpoint=endpoint)


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / STATE_FILE


def write(data_dir: Path, state: AdapterState) -> None:
    """Atomically (a reader never sees half a file)."""
    state.updated = _now()
    target = path_in(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = target.with_suffix(f".{os.getpid()}.tmp")
    scratch.write_text(json.dumps(asdict(state), ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(scratch, target)


def read(data_dir: Path) -> AdapterState | None:
    try:
        raw = json.loads(path_in(data_dir).read_text(encoding="utf-8"))
        rooms = [RoomRecord(**room) for room in raw.pop("rooms", [])]
        return AdapterState(**raw, rooms=rooms)
    except (OSError, ValueError, TypeError):
        return None


def recorder_alive(state: AdapterState) -> bool | None:
    """True/False for a process on this host; None when it ran on another host."""
    if state.stopped:
        return False
    if state.host != socket.gethostname():
        return None
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process with that id: treat as running
    return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
