"""The normalized model every adapter speaks: frozen values, no platform types.

Adapters turn platform events into these and back; the core and plugins never see a
platform object, so a plugin runs the same on the console, in tests and in WeChat.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MessageKind(StrEnum):
    """What a message carries; moderation treats cards and mini-programs apart."""

    TEXT = "text"
    IMAGE = "image"
    LINK = "link"
    CARD = "card"  # a shared contact card
    MINI_PROGRAM = "mini_program"
    OTHER = "other"


class IncomingMessage(Frozen):
    """A message a member posted in a group."""

    id: str
    group_id: str
    sender_id: str
    sender_name: str
    text: str
    at: datetime
    mentions_bot: bool = False
    mention_ids: tuple[str, ...] = ()
    kind: MessageKind = MessageKind.TEXT
    from_self: bool = False  # the bot's own account posted it (echoes must be ignored)


class MemberJoined(Frozen):
    group_id: str
    member_id: str
    member_name: str
    at: datetime
    inviter_id: str | None = None


class MemberLeft(Frozen):
    group_id: str
    member_id: str
    member_name: str = ""
    at: datetime
    remover_id: str | None = None


Event = IncomingMessage | MemberJoined | MemberLeft


class OutKind(StrEnum):
    REPLY = "reply"  # answers a member's message
    POST = "post"  # timed or bulk content
    NOTICE = "notice"  # moderation notices: sent before anything else
    DM = "dm"  # a direct message to one person (operators' digest)


class Outgoing(Frozen):
    """One message for the platform: to a group (group_id) or to a person (to)."""

    text: str
    kind: OutKind = OutKind.REPLY
    group_id: str | None = None
    to: str | None = None
    mentions: tuple[str, ...] = ()
    image_path: str | None = None


class GroupInfo(Frozen):
    """What the platform says about a group: its name and who runs it."""

    id: str
    name: str
    owner_id: str | None = None
    admin_ids: tuple[str, ...] = ()
    member_count: int | None = None


class Capabilities(Frozen):
    """What a platform can do, so plugins ask instead of checking adapter types."""

    remove_member: bool = False
    send_image: bool = False
    direct_message: bool = True


class Sent(Frozen):
    """What an adapter reports after a send: the platform's id for the message."""

    message_id: str | None = None

