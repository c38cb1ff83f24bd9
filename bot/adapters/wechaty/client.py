"""The SDK's Wechaty class, with its start and event hooks wired to our adapter."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from wechaty import Wechaty, WechatyOptions
from wechaty_puppet import PuppetOptions

if TYPE_CHECKING:
    from bot.adapters.wechaty.adapter import WechatyAdapter


class _Client(Wechaty):  # type: ignore[misc]
    def __init__(self, options: WechatyOptions, adapter: WechatyAdapter) -> None:
        super().__init__(options)
        self._adapter = adapter

    async def start(self) -> None:
        """Like Wechaty.start, but errors reach the adapter instead of a 60 s sleep."""
        await self.init_puppet()
        await self.init_puppet_event_bridge(self.puppet)
        await self.puppet.start()  # returns when the event stream ends

    async def on_login(self, contact: Any) -> None:
        self._adapter.logged_in.set()

    async def on_message(self, msg: Any) -> None:
        await self._adapter.on_message(msg)

    async def on_room_join(self, room: Any, invitees: list[Any], inviter: Any,
                           date: datetime) -> None:
        await self._adapter.on_room_join(room, invitees, inviter)

    async def on_room_leave(self, room: Any, leavers: list[Any], remover: Any,
                            date: datetime) -> None:
        await self._adapter.on_room_leave(room, leavers, remover)


def make_client(adapter: WechatyAdapter, endpoint: str, token: str, port: int) -> _Client:
    # A fresh PuppetOptions every time: the SDK's default instance is shared and mutated.
    puppet_options = PuppetOptions(end_point=endpoint, token=token)
    options = WechatyOptions(puppet="wechaty-puppet-service", puppet_options=puppet_options,
                             port=port, host="127.0.0.1")
    return _Client(options, adapter)
