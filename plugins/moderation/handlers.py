"""The guard every message passes first, the admins' commands, and the welcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot import ledger
from bot.context import Context, EventContext
from bot.events import IncomingMessage, Link, MessageKind
from bot.plugin import Role, Router
from bot.text import excerpt
from plugins.moderation import service
from plugins.moderation.detect import Allowances, Detector, Violation, inspected, load_words
from plugins.moderation.models import ModerationAction
from plugins.moderation.normalize import canonical
from plugins.moderation.settings import ModerationSettings
from plugins.moderation.windows import RecentMessages

router = Router()
AnyContext = Context[ModerationSettings] | EventContext[ModerationSettings]


@dataclass
class GroupState:
    """What the guard keeps in memory per group, so most messages cost no query."""

    allowed: Allowances = field(default_factory=Allowances)  # what 误判 allowed
    welcome: list[str] = field(default_factory=list)  # members waiting for the welcome


# Kinds no member typed or chose to send as content: never an offence, never counted.
NEVER_OFFENCES = frozenset({MessageKind.PAT, MessageKind.SYSTEM, MessageKind.RECALL})
WELCOME_MENTIONS = 20  # a mass join's welcome mentions this many and counts the rest


async def group_state(ctx: AnyContext) -> GroupState:
    states: dict[str, GroupState] = ctx.state.setdefault("groups", {})
    state = states.get(ctx.group.id)
    if state is None:
        async with ctx.transaction() as session:
            stored = await service.exceptions(session, ctx.group.id)
        state = states[ctx.group.id] = GroupState(Allowances.from_stored(stored))
    return state


def recent_messages(ctx: AnyContext) -> RecentMessages:
    found: RecentMessages | None = ctx.state.get("recent")
    if found is None:
        found = ctx.state["recent"] = RecentMessages()
    return found


@dataclass(frozen=True)
class Rules:
    """What one settings value compiles to: the word automaton and the acknowledgements."""

    detector: Detector
    acknowledgements: Acknowledgements


def rules(ctx: AnyContext) -> Rules:
    """Built once per settings (a /reload brings new settings, and a new automaton)."""
    cached = ctx.state.get("rules", {}).get(ctx.group.id)
    if cached is None or cached[0] is not ctx.settings:
        words = load_words(ctx.settings, ctx.services.config.base_dir)
        cached = (ctx.settings, Rules(Detector(ctx.settings, words),
                                      Acknowledgements(ctx.settings.acknowledgements)))
        ctx.state.setdefault("rules", {})[ctx.group.id] = cached
    return cached[1]


def detector(ctx: AnyContext) -> Detector:
    return rules(ctx).detector


class Acknowledgements:
    """Is a text only acknowledgements — 收到, 收到收到, 哈哈哈, +1, 666? A word-break check
    over short texts (a regular expression like (哈|哈哈)+ backtracks exponentially)."""

    LONGEST = 40  # an acknowledgement is short; longer texts are never one

    def __init__(self, words: list[str]) -> None:
        self.words = frozenset(canonical(w) for w in words) - {""}
        self.longest_word = max(map(len, self.words), default=0)

    def __contains__(self, text: str) -> bool:
        if not text or len(text) > self.LONGEST or not self.words:
            return False
        reachable = [True] + [False] * len(text)  # reachable[i]: text[:i] is acknowledgements
        for end in range(1, len(text) + 1):
            reachable[end] = any(
                reachable[start] and text[start:end] in self.words
                for start in range(max(0, end - self.longest_word), end))
        return reachable[-1]


@router.guard
async def enforce_rules(ctx: Context[ModerationSettings]) -> bool:
    if ctx.message.kind in NEVER_OFFENCES:
        return False
    state = await group_state(ctx)
    sender = ctx.sender_id
    if ctx.role < Role.ADMIN and sender not in ctx.settings.allow:
        violation = await find_violation(ctx, state)
        if violation and f"{violation.rule}:member:{sender}" not in state.allowed.values:
            await act(ctx, state, violation)
            return True
    # The group's one 小黑屋 (whoever put them there): the bot ignores them.
    return await ctx.services.blackroom.is_in(ctx.group.id, sender, ctx.now)


async def find_violation(ctx: Context[ModerationSettings], state: GroupState) -> Violation | None:
    found = detector(ctx).check(ctx.message, state.allowed) or await _link(ctx)
    if found and f"{found.rule}:{found.evidence}" in state.allowed.values:
        found = None  # 误判 allowed exactly this (a number, an id, a link)
    if found or ctx.is_command:
        return found  # using the bot is never flooding or repeating
    return _flood(ctx) or _repeat(ctx)


async def _link(ctx: Context[ModerationSettings]) -> Violation | None:
    link = Detector.link_in(ctx.message)
    if link is None:
        return None
    if ctx.settings.block_links:
        return Violation("link", link)
    async with ctx.transaction() as session:
        joined = (await service.member(session, ctx.group.id, ctx.sender_id)).joined_at
    if joined and ctx.now - joined < timedelta(hours=ctx.settings.newcomer_hours):
        return Violation("newcomer_link", link)
    return None


def _history_span(settings: ModerationSettings) -> timedelta:
    flood = timedelta(seconds=settings.flood.seconds) if settings.flood else timedelta()
    repeat = timedelta(minutes=settings.repeat.minutes) if settings.repeat else timedelta()
    return max(flood, repeat)


def _flood(ctx: Context[ModerationSettings]) -> Violation | None:
    flood = ctx.settings.flood
    if flood is None:
        return None
    history = recent_messages(ctx).history(ctx.group.id, ctx.sender_id, ctx.now,
                                           _history_span(ctx.settings))
    sent = history.sent
    sent.append(ctx.now)
    while sent and (ctx.now - sent[0] > timedelta(seconds=flood.seconds)
                    or len(sent) > flood.messages):
        sent.popleft()
    if len(sent) < flood.messages:
        return None
    sent.clear()  # one action per burst, not one per message
    return Violation("flood", f"{flood.messages}/{flood.seconds}s")


def _repeat(ctx: Context[ModerationSettings]) -> Violation | None:
    repeat = ctx.settings.repeat
    typed = ctx.message.kind in (MessageKind.TEXT, MessageKind.QUOTE)
    # Its beginning and end, as the content rules read it: a 100 KB message is compared
    # in bounded time (two that differ only in the middle count as a repeat).
    text = canonical(inspected(ctx.message.text)) if typed else ""
    if repeat is None or not text or text in rules(ctx).acknowledgements:
        return None
    history = recent_messages(ctx).history(ctx.group.id, ctx.sender_id, ctx.now,
                                           _history_span(ctx.settings))
    key = hash(text)  # what is kept: a number, not the text (a 100 KB text keeps no memory)
    history.texts.append((ctx.now, key))
    window = ctx.now - timedelta(minutes=repeat.minutes)
    same = [at for at, seen in history.texts if seen == key and at >= window]
    if len(same) < repeat.times:
        return None
    history.texts.clear()
    return Violation("repeat", excerpt(ctx.message.text))


async def act(ctx: Context[ModerationSettings], state: GroupState, violation: Violation) -> None:
    """Apply the next step of the ladder for this member, and log it with its evidence."""
    settings, sender = ctx.settings, ctx.sender_id
    async with ctx.transaction() as session:
        since = service.warning_start(ctx.now, settings.warning_days)
        count = await service.active_offences(session, ctx.group.id, sender, since) + 1
        ladder = settings.per_rule.get(violation.rule) or settings.escalation
        action = ladder[min(count, len(ladder)) - 1]
        points = await _deduct(ctx, session, action, violation)
        if action.startswith("blackroom:"):
            until = ctx.now + timedelta(days=int(action.split(":")[1]))
            await ctx.services.blackroom.put(session, ctx.group.id, sender, until,
                                             f"rule.{violation.rule}", ctx.plugin.name,
                                             now=ctx.now, name=ctx.sender_name)
        session.add(ModerationAction(
            group_id=ctx.group.id, member_id=sender, rule=violation.rule, action=action,
            evidence=f"{violation.evidence} | {_shown(ctx.message)[:200]}", points=points,
            by="bot", at=ctx.now))
        await _announce(ctx, violation, action, count, points)  # kept with the action
    if action == "remove" and ctx.capabilities.remove_member:
        await _remove(ctx, violation)  # a call to the platform: once the action is kept


def _shown(message: IncomingMessage) -> str:
    """The message as the log keeps it: what was typed, or a link card's title and URL."""
    if isinstance(message.content, Link):
        return f"{message.content.title} {message.content.url}".strip()
    return message.text


async def _deduct(ctx: Context[ModerationSettings], session: Any, action: str,
                  violation: Violation) -> int:
    if not action.startswith("deduct:"):
        return 0
    held = await ledger.balance(session, ctx.group.id, ctx.sender_id)
    points = min(int(action.split(":")[1]), max(held, 0))
    if points:
        why = ledger.Change(f"违规：{violation.rule}", "moderation", ctx.now)
        await ledger.change(session, ctx.group.id, ctx.sender_id, -points, why)
    return points


async def _announce(ctx: Context[ModerationSettings], violation: Violation, action: str,
                    count: int, points: int) -> None:
    rule = ctx.t(f"rule.{violation.rule}")
    kind, _, amount = action.partition(":")
    if kind == "remove":
        if not ctx.capabilities.remove_member:  # else told once removed (`_remove`)
            owner = (ctx.group.owner,) if ctx.group.owner else ()
            await ctx.notice(ctx.t("remove.ask_owner", name=ctx.sender_name, rule=rule,
                                   evidence=violation.evidence), mentions=owner)
        return
    if kind == "deduct" and not points:
        kind = "warn"  # nothing to deduct: it stays a warning
    described = ctx.t(f"action.{kind}", n=count, points=points, days=amount,
                      window=ctx.settings.warning_days)
    await ctx.notice(ctx.t("notice", rule=rule, evidence=violation.evidence, action=described),
                     mentions=(ctx.sender_id,))


async def _remove(ctx: Context[ModerationSettings], violation: Violation) -> None:
    await ctx.services.remove_member(ctx.group.id, ctx.sender_id)
    await ctx.notice(ctx.t("removed", name=ctx.sender_name, rule=ctx.t(f"rule.{violation.rule}")))


# -- admins --------------------------------------------------------------------------------


def _target(ctx: Context[ModerationSettings]) -> str | None:
    return ctx.message.mention_ids[0] if ctx.message.mention_ids else None


@router.command("warn", "警告", role=Role.ADMIN, help="警告成员：警告 @x 理由",
                help_en="warn a member: /warn @x reason")
async def warn(ctx: Context[ModerationSettings]) -> None:
    target = _target(ctx)
    reason = " ".join(w for w in ctx.args.split() if not w.startswith("@"))
    if target is None or not reason:
        await ctx.reply(ctx.t("usage.warn"))
        return
    async with ctx.transaction() as session:
        session.add(ModerationAction(group_id=ctx.group.id, member_id=target, rule="manual",
                                     action="warn", evidence=reason[:200], points=0,
                                     by=ctx.sender_id, at=ctx.now))
        await ctx.notice(ctx.t("manual_notice", reason=reason), mentions=(target,))  # with it


@router.command("unwarn", "撤销警告", role=Role.ADMIN, help="撤销对成员的最近一次处理",
                help_en="undo a member's latest action")
async def unwarn(ctx: Context[ModerationSettings]) -> None:
    target = _target(ctx)
    if target is None:
        await ctx.reply(ctx.t("need_target"))
        return
    await _undo(ctx, target, add_exception=False)


@router.command("misjudged", "误判", role=Role.ADMIN, help="撤销最近一次处理并加入例外",
                help_en="undo the latest action and add an exception")
async def misjudged(ctx: Context[ModerationSettings]) -> None:
    await _undo(ctx, None, add_exception=True)


async def _undo(ctx: Context[ModerationSettings], member: str | None, *,
                add_exception: bool) -> None:
    state = await group_state(ctx)
    async with ctx.transaction() as session:
        action = await service.last_action(session, ctx.group.id, member)
        if action is None:
            await ctx.reply(ctx.t("nothing_to_undo"))
            return
        await service.undo(session, action, ctx.now)
        if action.action.startswith("blackroom"):  # the 小黑屋 it opened is opened again
            await ctx.services.blackroom.release(session, ctx.group.id, action.member_id,
                                                 ctx.now, by=ctx.sender_id)
        allowance = _allowance_for(ctx, action) if add_exception else None
        if allowance:
            await service.add_exception(session, ctx.group.id, allowance.stored)
            state.allowed.add(allowance.stored)
        await _report_undo(ctx, action, allowance)  # kept with the undo


async def _report_undo(ctx: Context[ModerationSettings], action: ModerationAction,
                       allowance: Allowance | None) -> None:
    rule = ctx.t(f"rule.{action.rule}")
    if allowance is None:
        await ctx.reply(ctx.t("undone", name=action.member_id, rule=rule, action=action.action))
        return
    await ctx.reply(ctx.t("misjudged", name=action.member_id, rule=rule,
                          allowed=allowance.shown))


@dataclass(frozen=True)
class Allowance:
    stored: str  # as kept in moderation_exceptions
    shown: str  # as the admin is told what is now allowed


def _allowance_for(ctx: Context[ModerationSettings], action: ModerationAction) -> Allowance | None:
    """What 误判 allows from now on: the phrase around a banned word (never the word
    itself), the exact text a pattern matched, the exact number, id, link or card, or for
    flood and repeat this member."""
    if action.rule == "manual":
        return None
    matched, _, text = action.evidence.partition(" | ")
    if action.rule == "banned_word":
        phrase = detector(ctx).phrase_for(text, matched)
        if not phrase:
            return None
        return Allowance(f"phrase:{matched}:{phrase}", ctx.t("allowed.phrase", phrase=phrase,
                                                              word=matched))
    if action.rule in ("flood", "repeat"):
        return Allowance(f"{action.rule}:member:{action.member_id}",
                         ctx.t("allowed.member", name=action.member_id))
    return Allowance(f"{action.rule}:{matched}", ctx.t("allowed.exact", text=matched))


# -- members joining ------------------------------------------------------------------------


@router.on_join
async def member_joined(ctx: EventContext[ModerationSettings]) -> None:
    state = await group_state(ctx)
    async with ctx.transaction() as session:
        member = await service.member(session, ctx.group.id, ctx.member_id)
        member.joined_at, member.name = ctx.now, ctx.member_name
        until = await ctx.services.blackroom.until(ctx.group.id, ctx.member_id, ctx.now,
                                                   session=session)
        if until is not None:  # told with the join it reports
            await ctx.notice(ctx.t("rejoined", name=ctx.member_name,
                                   until=f"{until.astimezone(ctx.group.timezone):%m-%d %H:%M}"),
                             mentions=_admins(ctx))
    if not ctx.settings.rules_text:
        return
    state.welcome.append(ctx.member_id)

    async def welcome() -> None:
        members, state.welcome = tuple(dict.fromkeys(state.welcome)), []
        if members:
            await ctx.post(welcome_text(ctx, len(members)), mentions=members[:WELCOME_MENTIONS])

    # Joins within the window share one welcome: the first join sets the timer.
    ctx.services.scheduler.call_at(ctx.now + ctx.settings.welcome_within,
                                   f"moderation.welcome:{ctx.group.id}", welcome)


def _admins(ctx: EventContext[ModerationSettings]) -> tuple[str, ...]:
    return tuple(sorted({*ctx.group.admins, *([ctx.group.owner] if ctx.group.owner else [])}))


def welcome_text(ctx: EventContext[ModerationSettings], joined: int) -> str:
    """The welcome; past WELCOME_MENTIONS members it says how many joined in all."""
    text = ctx.t("welcome", group=ctx.group.name, rules=ctx.settings.rules_text)
    if joined <= WELCOME_MENTIONS:
        return text
    return ctx.t("welcome.more", count=joined) + "\n" + text
