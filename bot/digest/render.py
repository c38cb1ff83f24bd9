"""The digest as operators read it: totals, groups at risk, then each group's figures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.almanac import weekday
from bot.config.models import DigestSettings
from bot.digest.service import Digest, Figure, GroupDigest
from bot.digest.texts import TEXTS
from bot.i18n import join_list
from bot.platform_state import duration_text

PER_LINE = 3
ALWAYS_SHOWN = ("core.messages", "core.speakers")


def change(figure: Figure, language: str) -> str:
    """The figure against its 7-day average: ↑22%, ↓5%, +3pt, flat, new; — without history."""
    if figure.average is None:
        return "—"
    if figure.percent:
        points = (figure.value - figure.average) * 100
        return TEXTS.get(language, "flat") if abs(points) < 0.5 else f"{points:+.0f}pt"
    if figure.average == 0:
        return TEXTS.get(language, "new") if figure.value else "—"
    ratio = (figure.value - figure.average) / figure.average
    if abs(ratio) < 0.005:
        return TEXTS.get(language, "flat")
    return f"{'↑' if ratio > 0 else '↓'}{abs(ratio):.0%}"


def show(figure: Figure, language: str) -> str:
    label = TEXTS.get(language, figure.label) if figure.key.startswith("core.") else figure.label
    value = f"{figure.value:.0%}" if figure.percent else f"{figure.value:g}"
    if language == "zh":
        return f"{label} {value}（{change(figure, language)}）"
    return f"{label[:1].upper()}{label[1:]} {value} ({change(figure, language)})"


def _total(groups: Sequence[GroupDigest], key: str, *more: Figure | None) -> Figure:
    figures = [f for g in groups if (f := g.figure(key)) is not None]
    figures += [f for f in more if f is not None]
    averages = [f.average for f in figures if f.average is not None]
    return Figure(key, key, sum(f.value for f in figures), sum(averages) if averages else None)


def render(digest: Digest, groups: Sequence[GroupDigest], settings: DigestSettings,
           language: str) -> str:
    t = TEXTS.get
    failed = _total(groups, "core.failed", digest.failed_dms)
    lines = [
        t(language, "title", date=digest.day.isoformat(), weekday=weekday(digest.day, language),
          groups=len(groups)),
        t(language, "totals", messages=_value(_total(groups, "core.messages"), language),
          speakers=_value(_total(groups, "core.speakers"), language),
          failed=_value(failed, language)),
    ]
    lines += _outages(digest, language)
    risky = [g for g in groups if g.at_risk]
    if risky:
        risk = join_list(language, (_risk(g, language) for g in risky))
        lines.append(t(language, "risk", groups=risk))
    else:
        lines.append(t(language, "no_risk"))
    if removed := [g for g in groups if g.removed_at is not None]:
        lines.append(t(language, "removed", groups=join_list(language, (
            t(language, "removed.group", group=g.group.name,
              date=g.removed_at.strftime("%m-%d")) for g in removed if g.removed_at))))
    shown = (risky + sorted((g for g in groups if not g.at_risk),
                            key=lambda g: -(_latest(g) or 0)))
    for group in shown[: settings.detail_groups]:
        lines += ["", *_group(group, language, digest.day)]
    if len(shown) > settings.detail_groups:
        lines += ["", t(language, "more", count=len(shown) - settings.detail_groups)]
    for title in digest.failed_hooks:
        lines.append(t(language, "hook_failed", plugin=title))
    return "\n".join(lines)


def _outages(digest: Digest, language: str) -> list[str]:
    lines = []
    for start, end in digest.outages:
        when = start.strftime("%m-%d %H:%M")
        lines.append(TEXTS.get(language, "outage.open", start=when) if end is None else
                     TEXTS.get(language, "outage", start=when,
                               duration=duration_text(end - start, language)))
    return lines


def _latest(group: GroupDigest) -> int | None:
    return next((v for v in reversed(group.series) if v is not None), None)


def _value(figure: Figure, language: str) -> str:
    text = f"{figure.value:g}"
    return f"{text}（{change(figure, language)}）" if language == "zh" \
        else f"{text} ({change(figure, language)})"


def _risk(group: GroupDigest, language: str) -> str:
    if group.silent_days:
        days = f"{group.silent_days}+" if group.silent_days >= len(group.series) else \
            str(group.silent_days)
        return TEXTS.get(language, "risk.silent", group=group.group.name, days=days)
    today = group.figure("core.messages")
    assert today is not None
    return TEXTS.get(language, "risk.drop", group=group.group.name, change=change(today, language))


def _group(group: GroupDigest, language: str, digest_day: date) -> list[str]:
    figures = [show(f, language) for f in group.figures
               if f.key in ALWAYS_SHOWN or f.value or f.average]  # nothing to say: left out
    removed = TEXTS.get(language, "removed.header") if group.removed_at else ""
    lines = [f"■ {group.group.name}{removed}" + (TEXTS.get(language, "local_day",
                                                  date=group.group.day.isoformat())
                                        if group.group.day != digest_day else "")]
    lines += [" · ".join(figures[i : i + PER_LINE]) for i in range(0, len(figures), PER_LINE)]
    if group.keywords:
        lines.append(TEXTS.get(language, "keywords", words=join_list(language, group.keywords)))
    lines += [TEXTS.get(language, "notes", note=note) for note in group.notes[:10]]
    return lines
