"""What a puppet-service gateway's MessagePayload *is*: kind, typed content, typed text, time.

Pure functions, no SDK import (issue 11, point 1). A live gateway passes on what WeChat
sends: padlocal keeps the raw XML as `text` for stickers, link cards, files, mini-programs,
pats and recalls, and writes quoted replies as `「名字：原文」\\n- - - …\\n回复`
(wechaty/puppet-padlocal src/padlocal/schema-mapper/message/*.ts). Everything that is not
a person's words is turned into structure here, so no XML ever reaches the plugins as text.

XML goes through expat with DTDs refused (so no entity can be declared or expanded);
malformed XML makes the message UNKNOWN, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from xml.etree.ElementTree import Element, TreeBuilder
from xml.parsers import expat

from bot.events import (
    Content,
    Link,
    Location,
    MessageKind,
    MiniProgram,
    Notice,
    Quote,
    SharedFile,
)

MAX_XML_CHARS = 200_000  # WeChat's app messages are a few KB; anything larger is not one
ALL_MEMBERS_IDS = frozenset({"notify@all", "announcement@all"})
AT_ALL_WORDS = ("@所有人", "@All", "@all")
MENTION_END = "\u2005"  # WeChat ends an @-mention with a four-per-em space


class PuppetType(IntEnum):
    """wechaty/puppet src/schemas/message.ts MessageType (the numbers on the wire)."""

    UNKNOWN = 0
    ATTACHMENT = 1
    AUDIO = 2
    CONTACT = 3
    CHAT_HISTORY = 4
    EMOTICON = 5
    IMAGE = 6
    TEXT = 7
    LOCATION = 8
    MINI_PROGRAM = 9
    GROUP_NOTE = 10
    TRANSFER = 11
    RED_ENVELOPE = 12
    RECALLED = 13
    URL = 14
    VIDEO = 15
    POST = 16
    SYSTEM = 18


# Kinds fixed by the type number alone; the others are read from the text.
_PLAIN_KINDS = {
    PuppetType.AUDIO: MessageKind.VOICE,
    PuppetType.CONTACT: MessageKind.CARD,
    PuppetType.EMOTICON: MessageKind.STICKER,
    PuppetType.IMAGE: MessageKind.IMAGE,
    PuppetType.VIDEO: MessageKind.VIDEO,
    PuppetType.CHAT_HISTORY: MessageKind.UNKNOWN,
    PuppetType.GROUP_NOTE: MessageKind.UNKNOWN,
    PuppetType.TRANSFER: MessageKind.UNKNOWN,
    PuppetType.RED_ENVELOPE: MessageKind.UNKNOWN,
}

# <appmsg><type>: puppet-padlocal src/padlocal/messages/message-appmsg.ts AppMessageType
_APPMSG_LINK = {3, 4, 5}  # music and video links are link cards too
_APPMSG_FILE = 6
_APPMSG_MINI_PROGRAM = {33, 36}
_APPMSG_LOCATION = 17
_APPMSG_QUOTE = 57

# padlocal message-parser-refermsg.ts: 「name：quoted」, a line of 15 "- ", then the reply
_QUOTE_SEPARATOR = re.compile(r"\n-(?: -){3,}\n")
_PAT_TEXT = re.compile(r"拍了拍|\bpatted\b")
_TYPED_AT_ALL = re.compile(r"@(?:所有人|All|all)(?:[\u2005\u3000 \n]|$)")


@dataclass(frozen=True)
class RawMessage:
    """The fields of a gateway MessagePayloadResponse this module reads."""

    type: int
    text: str = ""
    mention_ids: tuple[str, ...] = ()
    timestamp: int = 0
    filename: str = ""


@dataclass(frozen=True)
class Parsed:
    """A message's kind and content, and what a person typed in it (mentions kept)."""

    kind: MessageKind
    text: str = ""
    content: Content | None = None
    known_type: bool = True  # False: a type number this module has never heard of


@dataclass(frozen=True)
class Mentions:
    """Who a message mentions, once the @所有人 expansion is recognised."""

    ids: tuple[str, ...] = ()
    mentions_all: bool = False
    announcement: bool = False


def parse(raw: RawMessage) -> Parsed:
    """Kind, content and typed text of one message; never raises."""
    try:
        return _parse(raw)
    except Exception:  # a shape nobody has seen yet must not cost the message
        return Parsed(MessageKind.UNKNOWN)


def _parse(raw: RawMessage) -> Parsed:
    try:
        puppet_type = PuppetType(raw.type)
    except ValueError:
        return Parsed(MessageKind.UNKNOWN, known_type=False)
    text = raw.text or ""
    if puppet_type in _PLAIN_KINDS:
        return Parsed(_PLAIN_KINDS[puppet_type])
    if puppet_type is PuppetType.TEXT:
        return _text(text)
    root = parse_xml(text) if _looks_like_xml(text) else None
    if root is not None:
        if (appmsg := _child(root, "appmsg")) is not None:
            return _appmsg(appmsg, raw)
        if (sysmsg := _child(root, "sysmsg")) is not None:
            return _sysmsg(sysmsg)
        if (location := _child(root, "location")) is not None:
            return Parsed(MessageKind.LOCATION, content=Location(
                name=location.get("poiname", ""), address=location.get("label", "")))
    elif _looks_like_xml(text):
        return Parsed(MessageKind.UNKNOWN)  # broken XML: keep nothing of it
    return _by_type_only(puppet_type, text, raw)


def _by_type_only(puppet_type: PuppetType, text: str, raw: RawMessage) -> Parsed:
    """Non-XML text for a type that is normally XML (other puppets, notices)."""
    if puppet_type is PuppetType.ATTACHMENT:
        return Parsed(MessageKind.FILE, content=SharedFile(name=raw.filename or text.strip()))
    if puppet_type is PuppetType.RECALLED:
        # wechaty's Message.toRecalled(): the text is the recalled message's id
        return Parsed(MessageKind.RECALL, content=Notice(target_id=text.strip() or None))
    if puppet_type in (PuppetType.UNKNOWN, PuppetType.SYSTEM) and text.strip():
        # padlocal: WeChat's own notices (type 10000) arrive as plain text of type 0
        kind = MessageKind.PAT if _PAT_TEXT.search(text) else MessageKind.SYSTEM
        return Parsed(kind, content=Notice(text=text.strip()))
    if puppet_type is PuppetType.LOCATION:
        return Parsed(MessageKind.LOCATION, content=Location(name=text.strip()))
    return Parsed(MessageKind.UNKNOWN)


def _text(text: str) -> Parsed:
    quote = split_quote(text)
    if quote is not None:
        author, quoted, reply = quote
        return Parsed(MessageKind.QUOTE, reply, Quote(author=author, quoted=quoted))
    return Parsed(MessageKind.TEXT, text)


def split_quote(text: str) -> tuple[str, str, str] | None:
    """(author, quoted, reply) of padlocal's quoted-reply text, or None."""
    if not text.startswith("「"):
        return None
    separators = list(_QUOTE_SEPARATOR.finditer(text))
    if not separators:
        return None
    last = separators[-1]  # a quote of a quote keeps its own separator inside the quote
    head, reply = text[: last.start()], text[last.end():]
    if not head.endswith("」"):
        return None
    author, colon, quoted = head[1:-1].partition("：")
    if not colon:
        author, quoted = "", head[1:-1]
    return author, quoted, reply


def _appmsg(appmsg: Element, raw: RawMessage) -> Parsed:
    kind_number = _int(_field(appmsg, "type"))
    title, description = _field(appmsg, "title"), _field(appmsg, "des")
    if kind_number in _APPMSG_LINK:
        return Parsed(MessageKind.LINK, content=Link(
            title=title, description=description, url=_field(appmsg, "url")))
    if kind_number == _APPMSG_FILE:
        size = _int(_field(appmsg, "appattach/totallen")) or None
        return Parsed(MessageKind.FILE, content=SharedFile(name=title or raw.filename, size=size))
    if kind_number in _APPMSG_MINI_PROGRAM:
        app = (_field(appmsg, "sourcedisplayname") or _field(appmsg, "appinfo/appname")
               or _field(appmsg, "weappinfo/appid"))
        return Parsed(MessageKind.MINI_PROGRAM, content=MiniProgram(title=title, app=app))
    if kind_number == _APPMSG_LOCATION:
        return Parsed(MessageKind.LOCATION, content=Location(name=title, address=description))
    if kind_number == _APPMSG_QUOTE:
        return _refermsg(appmsg, title)
    if kind_number == 1 and title:  # an app message that is plain text
        return _text(title)
    return Parsed(MessageKind.UNKNOWN)


def _refermsg(appmsg: Element, reply: str) -> Parsed:
    """A quote left as XML (padlocal converts it; other puppets may not)."""
    refer = appmsg.find("refermsg")
    if refer is None:
        return Parsed(MessageKind.TEXT, reply)
    quoted = _field(refer, "content") if _field(refer, "type") == "1" else ""
    author_id = _field(refer, "chatusr") or _field(refer, "fromusr") or None
    if author_id and author_id.endswith("@chatroom"):
        author_id = None
    return Parsed(MessageKind.QUOTE, reply, Quote(
        author=_field(refer, "displayname"), quoted=quoted, author_id=author_id))


def _sysmsg(sysmsg: Element) -> Parsed:
    """puppet-padlocal src/padlocal/messages/message-sysmsg.ts and sysmsg/*.ts."""
    kind = sysmsg.get("type", "")
    if kind == "pat":
        pat = sysmsg.find("pat")
        if pat is None:
            return Parsed(MessageKind.PAT, content=Notice())
        return Parsed(MessageKind.PAT, content=Notice(
            text=_field(pat, "template"), actor_id=_field(pat, "fromusername") or None,
            target_id=_field(pat, "pattedusername") or None))
    if kind == "revokemsg":
        revoke = sysmsg.find("revokemsg")
        if revoke is None:
            return Parsed(MessageKind.RECALL, content=Notice())
        return Parsed(MessageKind.RECALL, content=Notice(
            text=_field(revoke, "replacemsg"),
            target_id=_field(revoke, "newmsgid") or _field(revoke, "msgid") or None))
    if kind == "sysmsgtemplate":
        template = sysmsg.find("sysmsgtemplate/content_template")
        words = _template_text(template) if template is not None else ""
        return Parsed(MessageKind.SYSTEM, content=Notice(text=words))
    if kind == "roomtoolstips":
        return Parsed(MessageKind.SYSTEM, content=Notice(
            text=_field(sysmsg, "todo/title"), actor_id=_field(sysmsg, "todo/oper") or None))
    return Parsed(MessageKind.SYSTEM, content=Notice(text=_all_text(sysmsg)))


def _template_text(template: Element) -> str:
    """WeChat's `$name$` template filled with the nicknames its links name."""
    names: dict[str, str] = {}
    for link in template.iterfind("link_list/link"):
        nicknames = [_text_of(m.find("nickname")) for m in link.iterfind("memberlist/member")]
        names[link.get("name", "")] = "、".join(n for n in nicknames if n) or _field(link, "title")
    plain = _field(template, "plain")
    text = _field(template, "template") or plain
    return re.sub(r"\$([^$]+)\$", lambda m: names.get(m.group(1), ""), text)


# -- mentions --------------------------------------------------------------------------------


def mentions(ids: Iterable[str], text: str, room_member_ids: Iterable[str]) -> Mentions:
    """Whom a message mentions. padlocal expands `announcement@all` into every member's id
    (message-parser-room.ts); `notify@all` (the owner's @所有人) may come as it is."""
    ids = tuple(ids)
    members = set(room_member_ids)
    literal = ALL_MEMBERS_IDS.intersection(ids)
    expanded = len(members) >= 2 and members.issubset(ids)
    typed = _TYPED_AT_ALL.match(text.lstrip()) is not None
    if literal or expanded or typed:
        announcement = "announcement@all" in literal or expanded
        return Mentions((), mentions_all=True, announcement=announcement)
    return Mentions(ids)


def strip_mentions(text: str, names: Iterable[str], *, at_all: bool = False) -> str:
    """The text without `@name` mentions of the given names (the bot's) and, when asked,
    without @所有人: they are addressing, not words."""
    targets = sorted({n for n in names if n}, key=len, reverse=True)
    if at_all:
        targets += [w[1:] for w in AT_ALL_WORDS]
    if not targets:
        return text
    pattern = "|".join(re.escape(n) for n in targets)
    stripped = re.sub(rf"@(?:{pattern})(?:{MENTION_END}|[ \u3000\n]|$)", "", text)
    return stripped.strip() if stripped != text else text


def sent_at(timestamp: object) -> datetime | None:
    """A payload timestamp in seconds or milliseconds (wechaty/puppet accepts both)."""
    try:
        value = float(timestamp)  # type: ignore[arg-type]  # event JSON may hold a string
        if value <= 0:
            return None
        seconds = value / 1000 if value > 100_000_000_000 else value
        return datetime.fromtimestamp(seconds, UTC)
    except (TypeError, OverflowError, OSError, ValueError):
        return None


# -- XML ------------------------------------------------------------------------------------


class _Refused(Exception):
    pass


def _refuse(*_: object) -> None:
    raise _Refused("DTDs and entity declarations are not accepted")


def parse_xml(text: str) -> Element | None:
    """The document's root element, or None for anything that is not plain, small XML."""
    start = text.find("<")
    if start < 0 or len(text) > MAX_XML_CHARS:
        return None
    builder = TreeBuilder()
    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(text[start:], True)
        return builder.close()
    except (expat.ExpatError, _Refused, ValueError, AssertionError):
        return None


def _looks_like_xml(text: str) -> bool:
    """padlocal may leave a "wxid_…:\\n" prefix or whitespace before the XML."""
    head = text.lstrip()[:200]
    return head.startswith("<") or "\n<" in head


def _child(root: Element, tag: str) -> Element | None:
    return root if root.tag == tag else root.find(tag)


def _field(element: Element, path: str) -> str:
    return _text_of(element.find(path))


def _text_of(element: Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _all_text(element: Element) -> str:
    return " ".join(t.strip() for t in element.itertext() if t.strip())


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0
