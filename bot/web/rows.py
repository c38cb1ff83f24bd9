"""The overview's table rows, written straight to HTML: 2,000 rows through a template loop
cost more than the queries behind them (bench/web_overview.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from urllib.parse import quote

from markupsafe import Markup

from bot.web.queries import GroupRow


def overview_rows(rows: Sequence[GroupRow], t: Callable[..., str]) -> Markup:
    ok = f'<span class="muted">{escape(t("ok"))}</span>'
    out = []
    for row in rows:
        c = row.closed
        if c.removed:
            risk = f'<span class="flag">{escape(t("risk.removed"))}</span>'
        elif c.silent_days:
            risk = f'<span class="flag">{escape(t("risk.silent", days=c.silent_days))}</span>'
        elif c.drop is not None:
            percent = round(-c.drop * 100)
            risk = f'<span class="flag">{escape(t("risk.drop", percent=percent))}</span>'
        else:
            risk = ok
        out.append(
            f'<tr><td><a href="/group/{escape(quote(row.id, safe=""))}">{escape(row.name)}</a>'
            f'</td><td class="n">{row.today}<span class="muted"> / {row.today_speakers}'
            f'</span></td><td class="n">{c.yesterday}<span class="muted"> / '
            f'{c.yesterday_speakers}</span></td><td class="n wide">+{c.joins} −{c.leaves}</td>'
            f"<td>{c.sparkline}</td><td>{risk}</td></tr>\n")
    return Markup("".join(out))
