"""Sending the posts, and showing owners what is planned."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from bot.almanac import fill
from bot.content import tell_operators_of_broken
from bot.context import Context, JobContext
from bot.i18n import Texts
from bot.plugin import Role, Router, Schedule
from bot.scheduler import make_trigger
from plugins.tags.targeting import post_to_tagged_in
from plugins.timed_posts import service
from plugins.timed_posts.settings import TimedPost, TimedPostsSettings

router = Router()
AnyContext = Context[TimedPostsSettings] | JobContext[TimedPostsSettings]

TEXTS = Texts(
    zh={
        "list.header": "「{group}」的定时发布：",
        "list.item": "{n}. 下次 {next}：{text}",
        "list.none": "本群还没有定时发布。在 bot.yaml 的 timed_posts.posts 下添加。",
        "never": "不再发布",
    },
    en={
        "list.header": "Timed posts in “{group}”:",
        "list.item": "{n}. next {next}: {text}",
        "list.none": "No timed posts here yet. Add them under timed_posts.posts in bot.yaml.",
        "never": "never again",
    },
)


def schedules(settings: TimedPostsSettings) -> list[Schedule]:
    seen: Counter[str] = Counter()
    result = []
    for post in settings.posts:
        key = post.key()
        seen[key] += 1
        if seen[key] > 1:
            key = f"{key} #{seen[key]}"
        result.append(
            Schedule(key=key, at=post.at, cron=post.cron, weekdays=tuple(post.weekdays),
                     payload=post, between=tuple(post.between) if post.between else None)
        )
    return result


async def send_post(ctx: JobContext[TimedPostsSettings]) -> None:
    post = ctx.payload
    try:
        await _send(ctx, post)
    except (OSError, ValueError) as exc:  # a file removed or emptied while the bot runs
        ctx.log.error("timed post %s not sent: %s", post.key(), exc)
        config_dir = ctx.services.config.base_dir
        problem = service.unreadable(post, ctx.settings, config_dir, exc)
        if problem is not None:  # the operators hear once; the next post goes out when fixed
            tell_operators_of_broken(ctx, [problem], kept=False)


async def _send(ctx: JobContext[TimedPostsSettings], post: TimedPost) -> None:
    """Fill the post in for the slot's day (its topic drawn) and post it to the group, or
    to the members with its tags."""
    config_dir = ctx.services.config.base_dir
    text = service.template(post, config_dir)
    choices = None if post.pool is None else service.topics(ctx.settings.pool(post.pool),
                                                            config_dir)
    values = await _values(ctx, text)  # may ask the platform: not inside the transaction
    if post.tags:
        await ctx.services.activity.flush_counts()  # the tags read them; its own transaction
    # One transaction: the topic drawn, the post and the slot's completion (bot/scheduler.py's
    # SlotUnit marks it in the job's first one) kept together, or lost together by a kill.
    async with ctx.transaction() as session:
        if post.pool is not None and choices is not None:
            values["topic"] = await service.draw(session, ctx.group.id, post.pool, choices,
                                                 ctx.slot)
        filled = fill(text, ctx.slot.astimezone(ctx.group.timezone).date(),
                      ctx.group.language, values)
        if post.tags:  # only the members with these tags are @-mentioned, in batches
            await post_to_tagged_in(ctx, session, filled, post.tags)
        else:
            await ctx.post(filled)


async def _filled(ctx: AnyContext, text: str, at: datetime, topic: str | None) -> str:
    """`text` with the values the post is sent with, for the day of `at`: what the `定时`
    preview shows, so the owner sees what members will."""
    values = await _values(ctx, text)
    if topic is not None:
        values["topic"] = topic
    day = at.astimezone(ctx.group.timezone).date()
    return fill(text, day, ctx.group.language, values)


async def _values(ctx: AnyContext, text: str) -> dict[str, str]:
    """The values a post is filled with but its topic: one place for the post and the
    preview."""
    values = {"group": ctx.group.name}
    if "{members}" in text:  # asks the platform: only when the post shows it
        info = await ctx.services.roles.platform_info(ctx.group.id)
        count = info.member_count if info is not None else None
        values["members"] = str(count) if count is not None else "?"
    return values


async def _preview(ctx: Context[TimedPostsSettings], post: TimedPost,
                   at: datetime | None) -> str:
    """What the post will say at `at`: placeholders filled as they will be; the topic, drawn
    only when it goes out, shown as its pool's name."""
    try:
        text = service.template(post, ctx.services.config.base_dir)
    except (OSError, ValueError):  # the file went missing: `bot config check` says why
        return f"[{post.text_file}]"
    topic = f"[{post.pool}]" if post.pool is not None else None
    return await _filled(ctx, text, at or ctx.now, topic)


@router.command(
    "timed",
    "定时",
    "群SOP",
    role=Role.ADMIN,
    help="查看本群的定时发布",
    help_en="list this group's timed posts",
)
async def list_posts(ctx: Context[TimedPostsSettings]) -> None:
    posts = ctx.settings.posts
    if not posts:
        await ctx.reply(ctx.t("list.none"))
        return
    lines = [ctx.t("list.header", group=ctx.group.name)]
    for n, schedule in enumerate(schedules(ctx.settings), start=1):
        # The seed the runtime gives this job, so a window shows the moment it will use.
        seed = f"{ctx.group.id}|timed_posts.post.{schedule.key}"
        upcoming = make_trigger(schedule, ctx.group.timezone, seed).get_next_fire_time(None,
                                                                                      ctx.now)
        when = (
            upcoming.astimezone(ctx.group.timezone).strftime("%m-%d %H:%M")
            if upcoming
            else ctx.t("never")
        )
        text = (await _preview(ctx, schedule.payload, upcoming)).replace("\n", " ")
        short = text[:30] + ("…" if len(text) > 30 else "")
        lines.append(ctx.t("list.item", n=n, next=when, text=short))
    await ctx.reply("\n".join(lines), mention=False)
