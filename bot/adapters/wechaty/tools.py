"""`bot groups` and `bot logout` for the wechaty adapter, without a second event stream.

The gateway serves one event stream, and a running bot holds it. So `bot groups` reads
what the running bot recorded (state.py); only when no bot runs does it ask the gateway,
with plain calls (RoomList, RoomPayload): no event stream, no `Start`, no `Stop`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.adapters.base import AdapterError
from bot.adapters.wechaty import compat
from bot.adapters.wechaty import state as recorded
from bot.events import GroupInfo


async def groups(endpoint: str, token: str, data_dir: Path,
                 call_timeout: float = 10.0) -> tuple[list[GroupInfo], str]:
    """The account's rooms, and one line saying where the list comes from."""
    state = recorded.read(data_dir)
    alive = recorded.recorder_alive(state) if state is not None else False
    if state is not None and alive is not False:
        login = "logged in" if state.logged_in else "NOT logged in (scan the QR code it logs)"
        where = (f"pid {state.pid}" if alive else
                 f"host {state.host}, which cannot be checked from here")
        source = (f"read from the running bot ({where}, running since {state.since}, {login}; "
                  f"recorded {state.updated}); the gateway was not contacted")
        return [GroupInfo(id=r.id, name=r.name, member_count=r.member_count)
                for r in state.rooms], source
    return await _ask_gateway(endpoint, token, data_dir, call_timeout), (
        f"asked the gateway at {endpoint} directly: no bot is running (no event stream "
        "was opened, the WeChat session was not touched)")


async def _ask_gateway(endpoint: str, token: str, data_dir: Path,
                       call_timeout: float) -> list[GroupInfo]:
    session = await _session(endpoint, token, data_dir, call_timeout)
    try:
        try:
            room_ids = (await session.call("RoomList", session.stub.room_list())).ids
        except Exception as exc:
            raise AdapterError(
                f"the gateway at {endpoint} gave no room list ({exc}); is the account logged "
                "in? Start the bot (`bot run --adapter wechaty`) and scan the QR code it logs"
            ) from None
        found = []
        for room_id in room_ids:
            room = await session.call("RoomPayload", session.stub.room_payload(id=room_id))
            found.append(GroupInfo(id=room_id, name=room.topic or room_id,
                                   owner_id=room.owner_id or None,
                                   admin_ids=tuple(room.admin_ids or ()),
                                   member_count=len(room.member_ids or ())))
        return found
    finally:
        await session.close()


async def logout(endpoint: str, token: str, data_dir: Path, call_timeout: float = 10.0) -> None:
    """The one place the WeChat session is ended on purpose (`Logout`)."""
    session = await _session(endpoint, token, data_dir, call_timeout)
    try:
        await session.call("Logout", session.stub.logout())
    except Exception as exc:
        raise AdapterError(f"the gateway at {endpoint} refused the logout: {exc}") from None
    finally:
        await session.close()


async def _session(endpoint: str, token: str, data_dir: Path, call_timeout: float) -> Any:
    compat.apply(Path(data_dir) / "wechaty-cache")
    compat.check()
    from bot.adapters.wechaty.adapter import probe_endpoint
    from bot.adapters.wechaty.session import Session

    await probe_endpoint(endpoint)
    return Session(endpoint, token, call_timeout)
