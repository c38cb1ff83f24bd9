"""Joins with their inviter, 邀请人 for admins, /邀请榜, and the hourly settlement."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import Context, EventContext, JobContext
from bot.plugin import Role, Router, Schedule
from bot.ranking import standings
from plugins.invites import service
from plugins.invites.settings import InvitesSettings

router = Router()


def settle_schedules(settings: InvitesSettings) -> list[Schedule]:
    return [Schedule("settle", cron="7 * * * *")]


AnyContext = (Context[InvitesSettings] | JobContext[InvitesSettings]
              | EventContext[InvitesSettings])


def _reasons(ctx: AnyContext) -> service.Reasons:
    return service.Reasons(ctx.group.language)


@router.on_join
async def record_join(ctx: EventContext[InvitesSettings]) -> None:
    inviter = getattr(ctx.event, "inviter_id", None)
    async with ctx.transaction() as session:
        paid = await service.record_join(session, ctx.group.id, ctx.member_id, ctx.member_name,
                                         inviter, ctx.settings, ctx.now, _reasons(ctx))
        if paid is not None and ctx.settings.announce and inviter is not None:
            key = "thanks" if paid else "thanks.nopoints"  # kept with the join it reports
            await ctx.post(ctx.t(key, name=ctx.member_name, inviter=inviter, points=paid,
                                 days=ctx.settings.stay_days), mentions=(inviter,))


@router.on_leave
async def record_leave(ctx: EventContext[InvitesSettings]) -> None:
    async with ctx.transaction() as session:
        reversed_ = await service.record_leave(session, ctx.group.id, ctx.member_id,
                                               ctx.settings, ctx.now, _reasons(ctx))
    if reversed_:
        ctx.log.info("invitation of %s reversed: left within %d days", ctx.member_id,
                     ctx.settings.stay_days)


@router.command("inviter", "邀请人", role=Role.ADMIN, help="邀请人 @新成员 @邀请人",
                help_en="inviter @newcomer @inviter")
async def set_inviter(ctx: Context[InvitesSettings]) -> None:
    mentioned = ctx.message.mention_ids
    if len(mentioned) != 2:
        await ctx.reply(ctx.t("set.usage"))
        return
    member, inviter = mentioned
    async with ctx.transaction() as session:
        outcome = await service.set_inviter(session, ctx.group.id, member, inviter,
                                            ctx.settings, ctx.now, _reasons(ctx))
        known = await service.inviter_of(session, ctx.group.id, member)
        await ctx.reply(ctx.t(outcome, name=member, inviter=known or inviter))


async def _settle(ctx: Context[InvitesSettings] | JobContext[InvitesSettings]) -> None:
    await ctx.services.activity.flush_counts()  # whether invitees spoke is in the counters
    async with ctx.transaction() as session:
        bonuses = await _settle_due(ctx, session)
        await _announce(ctx, bonuses)  # kept with the settlement (the slot is marked in it)


async def _settle_due(ctx: Context[InvitesSettings] | JobContext[InvitesSettings],
                      session: AsyncSession) -> list[service.Bonus]:
    return await service.settle_due(session, ctx.group.id, ctx.group.timezone, ctx.settings,
                                    ctx.now, _reasons(ctx))


async def _announce(ctx: Context[InvitesSettings] | JobContext[InvitesSettings],
                    bonuses: list[service.Bonus]) -> None:
    for bonus in bonuses:
        await ctx.post(ctx.t("bonus", inviter=bonus.inviter_id, count=bonus.count,
                             points=bonus.points), mentions=(bonus.inviter_id,))


async def settle(ctx: JobContext[InvitesSettings]) -> None:
    await _settle(ctx)


@router.command("invites", "邀请榜", help="本月与总的邀请榜", help_en="invitation leaderboard")
async def board(ctx: Context[InvitesSettings]) -> None:
    await ctx.services.activity.flush_counts()  # whether invitees spoke is in the counters
    since = service.month_start(ctx.now, ctx.group.timezone)
    async with ctx.transaction() as session:  # settled and counted in one transaction
        bonuses = await _settle_due(ctx, session)
        await _announce(ctx, bonuses)  # kept with the settlement
        month, total = await service.counted_since_and_ever(session, ctx.group.id, since)
    lines = [ctx.t("board.header", group=ctx.group.name, days=ctx.settings.stay_days)]
    for title, counts in (("board.month", month), ("board.all", total)):
        lines.append(ctx.t(title))
        rows = standings(service.ranked(counts, ctx.settings.board_size), lambda row: row[1])
        lines += [ctx.t("board.line", n=n, name=inviter, count=service.shown(count))
                  for n, (inviter, count) in rows] or [ctx.t("board.empty")]
    lines.append(ctx.t("board.silent", share=ctx.t(f"share.{ctx.settings.silent}")))
    await ctx.reply("\n".join(lines), mention=False)
