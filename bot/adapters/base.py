"""The adapter boundary: what the core needs from a chat platform, and nothing more."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.events import Capabilities, Event, GroupInfo, Outgoing, Sent

EventSink = Callable[[Event], Awaitable[None]]


class SendError(Exception):
    """The platform refused or failed a send; the outbox retries with backoff.

    `permanent` marks failures that retrying cannot fix (no such group, blocked).
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class AdapterError(Exception):
    """The adapter cannot start (bad endpoint, missing token); shown to the user as is."""


class Adapter(Protocol):
    """A chat platform. Adapters know nothing about plugins or commands."""

    name: str
    capabilities: Capabilities

    async def run(self, sink: EventSink) -> None:
        """Deliver platform events to `sink` until `close()`; returns when closed."""

    async def send(self, message: Outgoing) -> Sent:
        """Send one message; raise SendError on failure."""

    async def close(self) -> None:
        """Stop receiving and release the connection."""

    async def ready(self, timeout: float) -> None:
        """Wait until the platform connection is up (raise AdapterError after `timeout`)."""

    async def group_info(self, group_id: str) -> GroupInfo | None:
        """Name, owner and admins as the platform knows them (None if unknown)."""

    async def list_groups(self) -> list[GroupInfo]:
        """Every group the bot account is in."""

    async def remove_member(self, group_id: str, member_id: str) -> None:
        """Remove a member (only when capabilities.remove_member)."""
