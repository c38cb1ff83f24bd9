"""Red-packet commands, expiry timers and scheduled system packets; bookkeeping is in
service.py.

Each packet's expiry is a one-off timer (`scheduler.call_at`), armed when it is sent. Timers
live in memory, so at start (`on_start`) the plugin re-arms them from the database and
refunds whatever expired while the bot was down. No periodic sweep: nothing is
written to the job ledger for packets.
"""

from __future__ import annotations

import dataclasses
import random
import re

from sqlalchemy.ext.asyncio import AsyncSession

from bot import ledger
from bot.context import Context, JobContext
from bot.input import COUNT_UNITS, POINT_UNITS, read_int, take_number
from bot.plugin import Role, Router, Schedule
from plugins.redpacket import service
from plugins.redpacket.models import RedPacket
from plugins.redpacket.settings import RedPacketSettings

router = Router()

Ctx = Context[RedPacketSettings] | JobContext[RedPacketSettings]

# "抢" alone is also said in passing: with nothing to grab it gets no answer ("抢红包" does).
QUIET_WORDS = frozenset({"抢"})
_INVISIBLE = re.compile(r"[\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def parse_packet(args: str) -> tuple[int, int, str] | None:
    """`total count [greeting]` in any form bot/input.py reads (`100 10`, `一百 十`,
    `１００积分 10个`), or None without the two numbers. An over-long number reads as
    TOO_BIG, which the range check refuses at once."""
    total = take_number(_INVISIBLE.sub("", args), POINT_UNITS)
    if total is None or not total[1] or total[1][0] in ",，":
        return None
    count = take_number(total[1], COUNT_UNITS)
    if count is None or total[0] < 0 or count[0] < 0:
        return None
    greeting = " ".join(count[1].split())[:50]
    return total[0], count[0], greeting


def rng(ctx: Ctx) -> random.Random:
    """Repeatable under a simulated clock (transcripts, tests); unpredictable for real."""
    if "rng" not in ctx.state:
        simulated = ctx.services.runtime.simulated
        ctx.state["rng"] = random.Random(0) if simulated else random.SystemRandom()
    return ctx.state["rng"]


def sender_label(ctx: Ctx, packet: RedPacket) -> str:
    return ctx.t("system") if packet.from_pool else packet.sender_name or packet.sender_id


def _bad_amounts(ctx: Ctx, total: int, count: int) -> str | None:
    if not 1 <= count <= ctx.settings.max_count:
        return ctx.t("bad.count", max=ctx.settings.max_count)
    if not count <= total <= ctx.settings.max_total:
        return ctx.t("bad.total", min=count, max=ctx.settings.max_total)
    return None


async def send_packet(ctx: Ctx, total: int, count: int, greeting: str, *, sender_id: str,
                      sender_name: str, from_pool: bool) -> str | None:
    """Send a packet and announce it; returns why not, or None."""
    problem = _bad_amounts(ctx, total, count)
    if problem:
        return problem
    greeting = greeting or ctx.t("greeting")
    try:
        async with ctx.transaction() as session:
            packet = await service.send(session, ctx.group.id, sender_id, sender_name, total,
                                        count, greeting, ctx.now, ctx.settings.expires_after,
                                        rng(ctx), from_pool=from_pool)
            key = "sent.system" if from_pool else "sent"  # announced with the packet itself
            await ctx.post(ctx.t(key, name=sender_name, total=total, count=count,
                                 greeting=greeting))
    except ledger.InsufficientPoints as short:
        return ctx.t("short", balance=short.balance, total=total)
    except service.PoolShort as short:
        return ctx.t("pool.short", balance=short.balance, total=total)
    arm_expiry(ctx, packet)
    return None


def arm_expiry(ctx: Ctx, packet: RedPacket) -> None:
    """A timer at the packet's expiry (a key already pending is kept)."""
    ctx.services.scheduler.call_at(packet.expires_at,
                                   f"redpacket.expire:{ctx.group.id}:{packet.id}",
                                   lambda: expire(detached(ctx)))


def detached(ctx: Ctx) -> Ctx:
    """A copy for a timer: its own transaction, and `now` when it fires."""
    return dataclasses.replace(ctx, now=ctx.services.clock.now())


async def restore(ctx: Ctx) -> None:
    """At start: refund what expired while the bot was down; re-arm the open packets' timers."""
    await expire(ctx)
    async with ctx.transaction() as session:
        still_open = await service.open_packets(session, ctx.group.id)
    for packet in still_open:
        arm_expiry(ctx, packet)


@router.command("redpacket", "发红包", help="发积分红包：发红包 总积分 份数 [祝福语]",
                help_en="send a points red packet: /redpacket total shares [greeting]")
async def send_member_packet(ctx: Context[RedPacketSettings]) -> None:
    parsed = parse_packet(ctx.args)
    if parsed is None:
        await ctx.reply(ctx.t("usage"))
        return
    total, count, greeting = parsed
    problem = await send_packet(ctx, total, count, greeting, sender_id=ctx.sender_id,
                                sender_name=ctx.sender_name, from_pool=False)
    if problem:
        await ctx.reply(problem)


@router.command("systempacket", "系统红包", role=Role.ADMIN,
                help="从红包池发红包：系统红包 总积分 份数 [祝福语]",
                help_en="a packet paid from the pool: /systempacket total shares [greeting]")
async def send_pool_packet(ctx: Context[RedPacketSettings]) -> None:
    parsed = parse_packet(ctx.args)
    if parsed is None:
        await ctx.reply(ctx.t("usage.system"))
        return
    total, count, greeting = parsed
    problem = await send_packet(ctx, total, count, greeting, sender_id="",
                                sender_name=ctx.t("system"), from_pool=True)
    if problem:
        await ctx.reply(problem)


@router.command("grab", "抢", "抢红包", help="抢红包", help_en="grab a red packet")
async def grab(ctx: Context[RedPacketSettings]) -> None:
    async with ctx.transaction() as session:
        if await ctx.services.blackroom.keeps_out(ctx, session):
            return  # no 抢 from the 小黑屋
        result = await service.grab(session, ctx.group.id, ctx.sender_id, ctx.sender_name,
                                    ctx.now)
        finished = isinstance(result, service.Grab) and result.finished
        summary = await _summary(ctx, session, result.packet) if finished else ""
        # Replies in the transaction: the grab and its report are kept together.
        if isinstance(result, str):
            if not (result == "none" and ctx.command_word in QUIET_WORDS):
                await ctx.reply(ctx.t(result))
            return
        await ctx.reply(ctx.t("grabbed", amount=result.amount, position=result.position,
                              count=result.packet.count,
                              sender=sender_label(ctx, result.packet)), coalesce="grab")
        if summary:
            await ctx.post(summary)


async def _summary(ctx: Ctx, session: AsyncSession, packet: RedPacket) -> str:
    taken = await service.shares(session, packet.id)
    best = service.luckiest(taken)
    lines = [ctx.t("done.line", name=s.member_name or s.member_id, amount=s.amount)
             for s in taken if s.member_id is not None]
    return ctx.t("done", sender=sender_label(ctx, packet), total=packet.total,
                 count=packet.count, lines="\n".join(lines),
                 best=(best.member_name or best.member_id) if best else "-",
                 amount=best.amount if best else 0)


@router.command("redpool", "红包池", help="红包池余额；管理员：红包池 充值 数量",
                help_en="the pool's balance; admins: /redpool add amount")
async def pool(ctx: Context[RedPacketSettings]) -> None:
    words = ctx.args.split()
    if not words:
        async with ctx.transaction() as session:
            balance = await service.pool_balance(session, ctx.group.id)
        await ctx.reply(ctx.t("pool", balance=balance), mention=False)
        return
    if ctx.role < Role.ADMIN:
        await ctx.reply(ctx.t("pool.admin_only"))
        return
    amount = next((n for w in words[1:] if (n := read_int(w, POINT_UNITS)) is not None), 0)
    if words[0] not in ("充值", "add", "+") or not 0 < amount <= 1_000_000:
        await ctx.reply(ctx.t("pool.usage"))
        return
    async with ctx.transaction() as session:
        balance = await service.add_to_pool(session, ctx.group.id, amount)
        await ctx.reply(ctx.t("pool.added", amount=amount, balance=balance))  # with the top-up


async def expire(ctx: Ctx) -> None:
    """Refund what nobody grabbed from packets past their expiry."""
    async with ctx.transaction() as session:
        closed = await service.expire_due(session, ctx.group.id, ctx.now)
        for packet, left in closed:  # in the transaction: each refund kept with its post
            await ctx.post(ctx.t("expired", sender=sender_label(ctx, packet),
                                 grabbed=packet.grabbed, count=packet.count, left=left))


def system_schedules(settings: RedPacketSettings) -> list[Schedule]:
    return [Schedule(key=f"{p.at:%H:%M}#{n}", at=p.at, weekdays=tuple(p.weekdays), payload=p)
            for n, p in enumerate(settings.scheduled, start=1)]


async def system_packet(ctx: JobContext[RedPacketSettings]) -> None:
    planned = ctx.payload
    problem = await send_packet(ctx, planned.total, planned.count, planned.greeting,
                                sender_id="", sender_name=ctx.t("system"), from_pool=True)
    if problem:  # the pool ran dry: tell the group's admins rather than fail silently
        admins = tuple(sorted({*ctx.group.admins, *([ctx.group.owner] if ctx.group.owner
                                                     else [])}))
        await ctx.post(problem, mentions=admins)
