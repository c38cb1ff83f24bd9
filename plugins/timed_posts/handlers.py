"""Sending the posts, and showing owners what is planned."""

from __future__ import annotations

from collections import Counter

from bot.context import Context, JobContext
from bot.i18n import Texts
from bot.plugin import Role, Router, Schedule
from bot.scheduler import make_trigger
from plugins.timed_posts.settings import TimedPostsSettings

router = Router()

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

WEEKDAYS_ZH = "一二三四五六日"
WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def schedules(settings: TimedPostsSettings) -> list[Schedule]:
    seen: Counter[str] = Counter()
    result = []
    for post in settings.posts:
        key = post.key()
        seen[key] += 1
        if seen[key] > 1:
            key = f"{key} #{seen[key]}"
        result.append(
            Schedule(
                key=key,
                at=post.at,
                cron=post.cron,
                weekdays=tuple(post.weekdays),
                payload=post.text,
            )
        )
    return result


def fill(text: str, ctx: JobContext[TimedPostsSettings]) -> str:
    """Placeholders owners may use: {date}, {weekday}, {group}; anything else stays as typed."""
    local = ctx.slot.astimezone(ctx.group.timezone)
    weekday = (
        WEEKDAYS_EN[local.weekday()]
        if ctx.group.language == "en"
        else "星期" + WEEKDAYS_ZH[local.weekday()]
    )
    values = {"date": local.strftime("%Y-%m-%d"), "weekday": weekday, "group": ctx.group.name}
    return text.format_map(_Keep(values))


class _Keep(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


async def send_post(ctx: JobContext[TimedPostsSettings]) -> None:
    try:
        text = fill(str(ctx.payload), ctx)
    except (ValueError, IndexError):  # a stray brace: post the text as written
        text = str(ctx.payload)
    await ctx.post(text)


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
        upcoming = make_trigger(schedule, ctx.group.timezone).get_next_fire_time(None, ctx.now)
        when = (
            upcoming.astimezone(ctx.group.timezone).strftime("%m-%d %H:%M")
            if upcoming
            else ctx.t("never")
        )
        text = str(schedule.payload).replace("\n", " ")
        short = text[:30] + ("…" if len(text) > 30 else "")
        lines.append(ctx.t("list.item", n=n, next=when, text=short))
    await ctx.reply("\n".join(lines), mention=False)
