"""A group's timed posts, as the owner writes them in bot.yaml."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.config.files import KeyProblem
from bot.config.models import ClockTime, ContentPath, Weekday
from bot.scheduler import cron_trigger
from plugins.tags.settings import Tag


class TimedPost(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    at: ClockTime | None = None
    cron: str | None = None
    # A window instead of a time: the moment is drawn each day (the same after a restart).
    between: list[ClockTime] | None = Field(None, min_length=2, max_length=2)
    weekdays: list[Weekday] = Field(default_factory=list)
    text: str | None = Field(None, min_length=1, max_length=4000)  # with a pool: "{topic}"
    text_file: ContentPath | None = None  # under config/, read when the post goes out
    pool: str | None = None  # draws a topic from `pools` without repeats: {topic}
    tags: list[Tag] = Field(default_factory=list, max_length=10)  # @ only members with these
    id: str | None = None  # keeps the delivery ledger's key stable if posts are reordered

    @field_validator("cron")
    @classmethod
    def _a_crontab_line(cls, value: str | None) -> str | None:
        if value is not None:
            cron_trigger(value, ZoneInfo("UTC"))  # raises ValueError saying which field
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> TimedPost:
        # Each problem at the line of the key that causes it (KeyProblem), not the post's.
        if self.text is not None and self.text_file is not None:
            raise KeyProblem(("text_file",), "`text` 和 `text_file` 只能写一个 (give `text` "
                             "or `text_file`, not both)")
        if self.text is None and self.text_file is None and self.pool is None:
            raise ValueError("缺少 `text`、`text_file` 或 `pool` (a post needs `text`, "
                             "`text_file` or `pool`)")
        given = [k for k in ("at", "between", "cron") if getattr(self, k) is not None]
        if len(given) != 1:
            problem = ("`at`（HH:MM）、`between`（[HH:MM, HH:MM]）和 `cron`（5 段）只能写一个 "
                       "(give either `at`, `between` or `cron`, not several or none)")
            if given:
                raise KeyProblem((given[-1],), problem)
            raise ValueError(problem)
        if self.between is not None and not self.between[0] < self.between[1]:
            raise KeyProblem(("between",), "`between` 的开始要早于结束，且在同一天内，如 "
                             "[\"19:00\", \"21:30\"] (`between` needs a start before its end, "
                             "within one day)")
        if self.cron is not None and self.weekdays:
            raise KeyProblem(("weekdays",), "`weekdays` 配合 `at` 使用；cron 自带星期段 "
                             "(`weekdays` goes with `at`; a cron line has its own weekday field)")
        return self

    def key(self) -> str:
        if self.id:
            return self.id
        if self.cron is not None:
            return "cron " + self.cron
        days = ",".join(str(d) for d in sorted(set(self.weekdays)))
        when = (f"between {self.between[0]:%H:%M}-{self.between[1]:%H:%M}"
                if self.between is not None else f"at {self.at:%H:%M}")
        return when + (f" on {days}" if days else "")


class TopicPool(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: list[str] = Field(default_factory=list)
    file: ContentPath | None = None  # under config/: one topic a line; `#` lines are comments


class TimedPostsSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    posts: list[TimedPost] = Field(default_factory=list)
    pools: dict[str, TopicPool | list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _pools_exist(self) -> TimedPostsSettings:
        for n, post in enumerate(self.posts):
            if post.pool is not None and post.pool not in self.pools:
                known = ", ".join(self.pools) or "none"
                raise KeyProblem(("posts", n, "pool"), f"`pools` 下没有话题池 {post.pool!r} "
                                 f"(no pool {post.pool!r} under `pools`; defined: {known})")
        return self

    def pool(self, name: str) -> TopicPool:
        pool = self.pools[name]
        return TopicPool(topics=pool) if isinstance(pool, list) else pool
