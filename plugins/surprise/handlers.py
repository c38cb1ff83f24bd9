"""The daily surprise for members whose activity is dropping, and noticing them return."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import ledger
from bot.context import Context, JobContext
from bot.plugin import Router, Schedule
from plugins.surprise import service
from plugins.surprise.models import SurpriseGiven
from plugins.surprise.settings import SurpriseSettings

router = Router()
VARIANTS = 2  # group texts group.0, group.1: not the same words every time


def surprise_schedules(settings: SurpriseSettings) -> list[Schedule]:
    return [Schedule("daily", at=settings.at)]


def _watching(ctx: Any) -> set[str]:
    """Members surprised within the last 3 days (fast path: most messages touch no row)."""
    return ctx.state.setdefault("watching", {}).setdefault(ctx.group.id, set())


async def give_surprises(ctx: JobContext[SurpriseSettings]) -> None:
    await ctx.services.activity.flush_counts()
    s, today = ctx.settings, ctx.slot.astimezone(ctx.group.timezone).date()
    async with ctx.transaction() as session:
        recently = await service.surprised_since(session, ctx.group.id,
                                                 ctx.now - timedelta(days=s.every_days))
        chosen = [f for f in await service.fading_members(session, ctx.group.id, today, s)
                  if f.member_id not in recently][: s.max_per_day]
        for fading in chosen:
            session.add(SurpriseGiven(group_id=ctx.group.id, member_id=fading.member_id,
                                      at=ctx.now, mode=s.mode, bonus=s.bonus))
            if s.bonus:
                await ledger.change(session, ctx.group.id, fading.member_id, s.bonus,
                                    ledger.Change(ctx.t("reason"), "surprise", ctx.now),
                                    name=fading.name)
        for n, fading in enumerate(chosen):  # in the transaction: each kept with its bonus
            await _tell(ctx, fading, f"{(today.toordinal() + n) % VARIANTS}")
    _watching(ctx).update(fading.member_id for fading in chosen)


async def _tell(ctx: JobContext[SurpriseSettings], fading: service.Fading, variant: str) -> None:
    s = ctx.settings
    suffix = "" if s.bonus else ".nobonus"
    if s.mode == "dm":
        await ctx.dm(fading.member_id, ctx.t("dm" + suffix, name=fading.name,
                                             group=ctx.group.name, bonus=s.bonus))
    else:
        await ctx.post(ctx.t(f"group.{variant}{suffix}", name=fading.name, bonus=s.bonus),
                       mentions=(fading.member_id,))


@router.passive
async def notice_return(ctx: Context[SurpriseSettings]) -> bool:
    """A surprised member speaking again within 3 days is counted (for the digest)."""
    if ctx.sender_id in _watching(ctx):
        _watching(ctx).discard(ctx.sender_id)
        async with ctx.transaction() as session:
            await service.mark_spoke_again(session, ctx.group.id, ctx.sender_id, ctx.now)
    return False


async def load_watching(ctx: JobContext[SurpriseSettings]) -> None:
    async with ctx.transaction() as session:
        _watching(ctx).update(await service.surprised_since(
            session, ctx.group.id, ctx.now - service.BACK_WITHIN))
