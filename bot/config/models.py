"""The shape of bot.yaml. Every model forbids unknown keys so a typo is an error, not a no-op."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from bot.clock import parse_duration
from bot.config.files import ContentPath as ContentPath  # plugins name their files with it
from bot.config.files import KeyProblem
from bot.i18n import Language


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: object) -> object:
    return parse_duration(value) if isinstance(value, str) else value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r} (use an IANA name such as Asia/Shanghai)"
        ) from None
    return name


def _clock_time(value: object) -> object:
    # YAML reads 09:00 as the number 540 (sexagesimal); accept that and "9:00".
    if isinstance(value, int) and 0 <= value < 24 * 60:
        return time(value // 60, value % 60)
    if isinstance(value, str):
        try:
            hour, _, minute = value.strip().partition(":")
            return time(int(hour), int(minute or 0))
        except ValueError:
            raise ValueError(f"invalid time {value!r}: use HH:MM, e.g. 09:00") from None
    return value


ClockTime = Annotated[time, BeforeValidator(_clock_time)]

# Weekday names owners write in schedules: mon..sun, 周一..周日, 星期天.
_WEEKDAYS = {
    **{name: i for i, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    **{name: i for i, name in enumerate(("一", "二", "三", "四", "五", "六", "日"))},
    **{f"周{name}": i for i, name in enumerate(("一", "二", "三", "四", "五", "六", "日"))},
    "天": 6,
    "周天": 6,
    "星期天": 6,
    "星期日": 6,
    **{f"星期{name}": i for i, name in enumerate(("一", "二", "三", "四", "五", "六"))},
}


def _weekday(value: object) -> int:
    key = str(value).strip().lower()
    if key not in _WEEKDAYS:
        raise ValueError(f"unknown weekday {value!r}: use mon..sun or 周一..周日")
    return _WEEKDAYS[key]


Weekday = Annotated[int, BeforeValidator(_weekday)]

TimeZoneName = Annotated[str, BeforeValidator(lambda v: check_timezone(str(v)))]
MemberId = Annotated[str, BeforeValidator(lambda v: str(v))]


class BotSettings(Strict):
    name: str = "小助手"
    language: Language = "zh"
    timezone: TimeZoneName = "Asia/Shanghai"
    command_prefixes: list[str] = Field(default_factory=lambda: ["/", "／"], min_length=1)
    # Folders outside config/ that plugin blocks may name files in (absolute paths there).
    content_roots: list[str] = Field(default_factory=list)


class Person(Strict):
    id: MemberId
    name: str = ""


class Operator(Person):
    # The groups this operator runs, for their digest: ids, names or "tag:x"; empty = all.
    groups: list[str] = Field(default_factory=list)
    # The accounts this operator is a contact of, preferred first (issue 18: their direct
    # messages go out through the first one running); empty = every account, in order.
    accounts: list[str] = Field(default_factory=list)


class DigestSettings(Strict):
    """The operators' daily digest (one direct message each, about every group they run)."""

    enabled: bool = True  # sent when there are operators
    at: ClockTime = time(8, 30)  # in `timezone`
    timezone: TimeZoneName | None = None  # default: the bot's
    covers: Literal["yesterday", "today"] = "yesterday"  # a whole day, or today so far
    risk_drop: float = Field(0.5, gt=0, le=1)  # at risk: messages down more than this vs 7-day avg
    risk_silent_days: int = Field(3, ge=1, le=30)  # …or no message for this many days
    keywords: int = Field(8, ge=0, le=30)  # top words per group
    detail_groups: int = Field(20, ge=1, le=500)  # groups shown one by one (at-risk first)
    chart_days: int = Field(14, ge=7, le=60)
    chart_dir: str = "data/digest"  # relative to bot.yaml's folder
    # A logout of the WeChat account lasting at least this long is noted in the digest.
    outage_note_after: Duration = timedelta(minutes=30)

    @model_validator(mode="after")
    def _silence_fits_the_chart(self) -> DigestSettings:
        # Silence is counted over the chart's days; a longer threshold could never be met.
        if self.risk_silent_days > self.chart_days:
            raise KeyProblem(("risk_silent_days",), f"risk_silent_days ({self.risk_silent_days}) "
                             f"must not exceed chart_days ({self.chart_days})")
        return self


class WechatySettings(Strict):
    endpoint: str | None = None
    token: str | None = None
    web_port: int | None = None  # unused since the adapter stopped starting the SDK's web server
    call_timeout: Duration = timedelta(seconds=10)  # every gateway call (send, lookups)
    probe_every: Duration = timedelta(seconds=30)  # a silent stream is probed with Ding
    stall_after: Duration = timedelta(seconds=90)  # a silent stream is reopened (no relogin)


class RetentionSettings(Strict):
    """How long the core keeps its bookkeeping rows; purged nightly (bot/purge.py)."""

    sent_messages: Duration = timedelta(days=7)  # outbox rows sent, failed or dropped
    job_runs: Duration = timedelta(days=30)  # the slot ledger (the digest reads 8 days)
    processed_ids: Duration = timedelta(days=2)  # handled message ids (replays come sooner)
    at: ClockTime = time(4, 30)  # in the bot's timezone


class DatabaseSettings(Strict):
    url: str = "sqlite+aiosqlite:///data/qunbot.db"
    retention: RetentionSettings = Field(default_factory=RetentionSettings)


class OutboxSettings(Strict):
    """The send budget. WeChat bans accounts that burst ("发送消息过于频繁")."""

    per_minute: float = Field(20, gt=0)
    burst: int = Field(5, ge=1)
    daily_cap: int = Field(3000, ge=1)
    group_jitter: tuple[Duration, Duration] = (timedelta(seconds=1), timedelta(seconds=3))
    max_attempts: int = Field(5, ge=1)
    retry_after: Duration = timedelta(seconds=10)
    # A graceful stop sends for at most this long, then writes what is left for next start.
    stop_timeout: Duration = timedelta(seconds=10)
    # Short replies of one kind that the budget holds back in a group go out as one message
    # (a line and a mention each); false: every reply alone.
    coalesce: bool = True


class LimitSettings(Strict):
    commands_per_minute: int = Field(10, ge=1)
    # A message delivered later than this after it was sent (a backlog after a reconnect)
    # is counted as activity but not answered.
    late_grace: Duration = timedelta(minutes=10)
    max_file_bytes: int = Field(1_000_000, ge=1_000)  # each config and content file
    reload_seconds: float = Field(10, gt=0, le=300)  # /reload gives up after this


class SchedulerSettings(Strict):
    grace: Duration = timedelta(minutes=30)


PluginBlocks = dict[str, dict[str, Any] | None]


class DefaultsSettings(Strict):
    """What groups missing from `groups:` get: built-in commands only, unless listed here."""

    plugins: PluginBlocks = Field(default_factory=dict)


class GroupConfig(Strict):
    name: str
    owner: MemberId | None = None
    admins: list[MemberId] = Field(default_factory=list)
    language: Language | None = None
    timezone: TimeZoneName | None = None
    tags: list[str] = Field(default_factory=list)
    plugins: PluginBlocks = Field(default_factory=dict)
    aliases: dict[str, list[str]] = Field(default_factory=dict)
    # The accounts that may serve this room, preferred first (default: `accounts:` order).
    accounts: list[str] = Field(default_factory=list)


class AccountSettings(Strict):
    """One WeChat account (issue 18): its gateway and its own send budget. A bot.yaml
    without `accounts:` has one implicit account, the `wechaty:` block's."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    endpoint: str | None = None  # default: wechaty.endpoint
    token: str | None = None  # default: wechaty.token
    # Overrides of the top-level `outbox:` budget for this account (per_minute, burst …).
    outbox: dict[str, Any] = Field(default_factory=dict)

    def budget(self, base: OutboxSettings) -> OutboxSettings:
        return OutboxSettings.model_validate({**base.model_dump(), **self.outbox})


class LeaseSettings(Strict):
    """Who serves a room when several accounts run (issue 18): a lease in the database.

    `failover`: a room whose serving process died or logged out is taken by another
    account in the room within this time (its lease expires, then the next renewal round
    of another process takes it)."""

    failover: Duration = Field(timedelta(seconds=60), ge=timedelta(seconds=1))

    @property
    def expires_after(self) -> timedelta:
        return self.failover * 0.6

    @property
    def renew_every(self) -> timedelta:
        return self.failover * 0.15

    @property
    def defer(self) -> timedelta:
        """How long an account further down a room's list leaves a free room to a preferred
        account whose process runs (it may still be logging in)."""
        return self.failover * 0.3


class HealthSettings(Strict):
    """GET /healthz for Docker's HEALTHCHECK, systemd and monitors (off by default)."""

    enabled: bool = False
    host: str = "127.0.0.1"  # local only unless you mean it
    port: int = Field(8787, ge=0, le=65535)  # 0: any free port


class WebSettings(Strict):
    """The operators' web console (bot/web; issue 19). Off by default, local only unless
    you mean it: put it behind a reverse proxy with TLS (README, "Web console")."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(8789, ge=0, le=65535)  # 8787: health; 8788: the gateway (README)
    # The address people open, for the login links the bot sends (no trailing slash);
    # default: http://host:port.
    public_url: str | None = None
    # Cookies only over HTTPS. Turn off only for plain http on your own machine.
    secure_cookies: bool = True
    session_hours: float = Field(12, gt=0, le=24 * 30)
    link_minutes: float = Field(10, gt=0, le=60)  # a login link's life (single use)
    login_attempts: int = Field(5, ge=1, le=100)  # failed logins per id and address…
    login_window: Duration = timedelta(minutes=15)  # …within this, then refused until it passes


class BotConfig(Strict):
    bot: BotSettings = Field(default_factory=BotSettings)
    adapter: Literal["console", "wechaty"] = "console"
    wechaty: WechatySettings = Field(default_factory=WechatySettings)
    accounts: list[AccountSettings] = Field(default_factory=list)
    leases: LeaseSettings = Field(default_factory=LeaseSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    operators: list[Operator] = Field(default_factory=list)
    digest: DigestSettings = Field(default_factory=DigestSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    web: WebSettings = Field(default_factory=WebSettings)
    defaults: DefaultsSettings = Field(default_factory=DefaultsSettings)
    groups: dict[str, GroupConfig] = Field(default_factory=dict)

    @field_validator("groups", mode="before")
    @classmethod
    def _ids_are_text(cls, value: object) -> object:
        # A numeric id in YAML (`12345:`) is still an id, not a number.
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _accounts_are_known(self) -> BotConfig:
        names = [account.name for account in self.accounts]
        if len(set(names)) != len(names):
            raise ValueError(f"accounts: each name once (got {', '.join(names)})")
        for account in self.accounts:
            account.budget(self.outbox)  # an invalid override fails here, at load
        for group_id, group in self.groups.items():
            unknown = [name for name in group.accounts if name not in names]
            if unknown:
                raise ValueError(f"groups.{group_id}.accounts: {', '.join(unknown)} not in "
                                 "`accounts:`")
        return self

    def account_order(self, group_id: str) -> list[str]:
        """The accounts that may serve a room, preferred first."""
        group = self.groups.get(group_id)
        if group is not None and group.accounts:
            return list(group.accounts)
        return [account.name for account in self.accounts]

    def operator_accounts(self, operator_id: str | None) -> list[str]:
        """The accounts that can reach an operator by direct message, preferred first."""
        for operator in self.operators:
            if operator.id == operator_id and operator.accounts:
                return list(operator.accounts)
        return [account.name for account in self.accounts]
