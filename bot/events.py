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
    """What a message is. Only TEXT and the reply part of a QUOTE carry words a person
    typed; every other kind keeps its structure in `IncomingMessage.content`."""

    TEXT = "text"
    QUOTE = "quote"  # a reply that quotes an earlier message
    IMAGE = "image"
    STICKER = "sticker"  # an emoji/sticker picture: never read as text
    VOICE = "voice"
    VIDEO = "video"
    FILE = "file"
    LINK = "link"  # a shared article or link card
    MINI_PROGRAM = "mini_program"
    CARD = "card"  # a shared contact card
    LOCATION = "location"
    PAT = "pat"  # 拍一拍
    SYSTEM = "system"  # a notice from WeChat itself ("xx邀请xx加入了群聊")
    RECALL = "recall"  # someone took a message back
    UNKNOWN = "unknown"


class Quote(Frozen):
    """A quoted reply: who was quoted and what they said, kept apart from the reply."""

    author: str  # the quoted author's display name
    quoted: str  # the quoted text (never a command, never the quoter's offence)
    author_id: str | None = None


class Link(Frozen):
    """A shared article or link card."""

    title: str = ""
    description: str = ""
    url: str = ""


class MiniProgram(Frozen):
    title: str = ""
    app: str = ""  # the mini-program's name (or app id when WeChat gives no name)


class SharedFile(Frozen):
    name: str = ""
    size: int | None = None  # bytes


class Location(Frozen):
    name: str = ""
    address: str = ""


class Notice(Frozen):
    """What WeChat itself says: system notices, pats, recalls. Never a member's words."""

    text: str = ""
    actor_id: str | None = None  # who did it (the patter, the one who recalled)
    target_id: str | None = None  # whom it concerns (the patted, the recalled message)


Content = Quote | Link | MiniProgram | SharedFile | Location | Notice

# The kinds that carry words a person typed; every other kind has no text for plugins.
TYPED_KINDS = frozenset({MessageKind.TEXT, MessageKind.QUOTE})
# What WeChat itself reports (notices, pats, recalls): not a member's chat, never answered
# or punished.
NOTICE_KINDS = frozenset({MessageKind.SYSTEM, MessageKind.PAT, MessageKind.RECALL})


class IncomingMessage(Frozen):
    """A message in a group. `text` is only what a person typed: the whole text of a
    TEXT message, the reply part of a QUOTE, and empty for every other kind."""

    id: str
    group_id: str
    sender_id: str
    sender_name: str
    text: str
    at: datetime  # when the bot received it
    mentions_bot: bool = False
    mention_ids: tuple[str, ...] = ()
    kind: MessageKind = MessageKind.TEXT
    content: Content | None = None
    sent_at: datetime | None = None  # the platform's own timestamp, when it gives one
    mentions_all: bool = False  # @所有人: not a mention of the bot or of anyone in particular
    announcement: bool = False  # a 群公告: never answered
    from_self: bool = False  # the bot's own account posted it (echoes must be ignored)

    @property
    def time(self) -> datetime:
        """When the member sent it: the platform's time, or arrival when it gives none."""
        return self.sent_at or self.at

    @property
    def typed_text(self) -> str:
        """`text` for the kinds a person types in, else "" — whatever an adapter put there."""
        return self.text if self.kind in TYPED_KINDS else ""


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


class GroupRenamed(Frozen):
    """The group's name changed on the platform."""

    group_id: str
    name: str
    at: datetime


class BotRemoved(Frozen):
    """The bot's account is no longer in the group (removed, or the group was dissolved)."""

    group_id: str
    at: datetime
    remover_id: str | None = None


class LoginChanged(Frozen):
    """The platform account logged in or out: the core pauses and resumes around it."""

    logged_in: bool
    at: datetime
    account_id: str | None = None
    reason: str = ""


Event = IncomingMessage | MemberJoined | MemberLeft | GroupRenamed | BotRemoved | LoginChanged


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
    # Where in `text` each mention goes (one offset per mention, in order); empty: all of
    # them in front, as WeChat shows a mention. A coalesced reply starts each line with one.
    mention_at: tuple[int, ...] = ()
    # Short replies of one kind ("checkin", "grab") that the outbox may send as one message
    # when a group's queue holds several (bot/outbox.py, issue 16.5); None: always alone.
    coalesce: str | None = None


class GroupInfo(Frozen):
    """What the platform says about a group: its name and who runs it."""

    id: str
    name: str
    owner_id: str | None = None
    admin_ids: tuple[str, ...] = ()
    member_count: int | None = None
    # Who is in the room now (the bot itself left out), where the platform lists them: a
    # member who never spoke is known only this way (issue 13: lurkers).
    member_ids: tuple[str, ...] | None = None


class Capabilities(Frozen):
    """What a platform can do, so plugins ask instead of checking adapter types."""

    remove_member: bool = False
    send_image: bool = False
    direct_message: bool = True


class Sent(Frozen):
    """What an adapter reports after a send: the platform's id for the message."""

    message_id: str | None = None

