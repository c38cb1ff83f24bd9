"""The digest's chart: messages per group per day, drawn headless (matplotlib's Agg).

Group names are drawn when the server has a CJK font; otherwise a non-ASCII name is drawn
as its group id and the digest's text says which id is which.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from math import nan
from pathlib import Path

WIDTH, HEIGHT, DPI = 8.0, 4.5, 100  # 800 x 450 pixels
LINES = 8  # the busiest groups get a line each; the rest are summed into one
_LOCK = threading.Lock()  # pyplot's state is global; charts are drawn one at a time


CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Microsoft YaHei", "PingFang SC", "SimHei")


@lru_cache(maxsize=1)
def cjk_font() -> str | None:
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def label(group_id: str, name: str) -> str:
    return name if name.isascii() or cjk_font() else group_id


def draw(path: Path, days: Sequence[date], series: dict[str, list[int | None]]) -> Path:
    """Write the PNG to `path` (run it in a thread: rendering takes ~100 ms)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    # None: a day not over yet in the group's time zone, drawn as a gap.
    plotted = {name: [nan if v is None else float(v) for v in values]
               for name, values in series.items()}
    ranked = sorted(plotted.items(), key=lambda item: -sum(v for v in item[1] if v == v))
    lines = ranked[:LINES]
    rest = ranked[LINES:]
    if rest:
        summed = [sum(values[i] for _, values in rest if values[i] == values[i])
                  for i in range(len(days))]
        lines.append((f"{len(rest)} other groups", summed))
    path.parent.mkdir(parents=True, exist_ok=True)
    font = cjk_font()
    with _LOCK, pyplot.rc_context({"font.family": [font, "DejaVu Sans"]} if font else {}):
        figure, axes = pyplot.subplots(figsize=(WIDTH, HEIGHT), dpi=DPI)
        try:
            x = [d.strftime("%m-%d") for d in days]
            for name, values in lines:
                axes.plot(x, values, marker="o", markersize=3, linewidth=1.5, label=name)
            axes.set_title(f"Messages per day, {days[0]:%Y-%m-%d} to {days[-1]:%Y-%m-%d}")
            axes.set_ylabel("messages")
            axes.grid(alpha=0.3)
            axes.tick_params(axis="x", labelrotation=45, labelsize=8)
            if lines:
                axes.legend(fontsize=8, loc="upper left")
            figure.tight_layout()
            figure.savefig(path, format="png", dpi=DPI)
        finally:
            pyplot.close(figure)
    return path
