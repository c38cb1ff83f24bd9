"""Charts as inline SVG, drawn on the server: no JavaScript, no image files."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape


def sparkline(values: Sequence[int | None], width: int = 84, height: int = 22) -> Markup:
    """A small line of the last days (None: before the bot ran, left out)."""
    known = [(i, v) for i, v in enumerate(values) if v is not None]
    if not known:
        return Markup("")
    top = max(v for _, v in known) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{i * step:.1f},{height - 2 - (v / top) * (height - 4):.1f}"
                      for i, v in known)
    return Markup(f'<svg class="spark" width="{width}" height="{height}" role="img" '
                  f'aria-label="{escape(", ".join(str(v) for _, v in known))}">'
                  f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" '
                  f'points="{points}"/></svg>')


def bars(labels: Sequence[str], values: Sequence[int], width: int = 600,
         height: int = 160) -> Markup:
    """A bar per day with the highest value written at the top left."""
    top = max(values, default=0) or 1
    gap = 2
    bar = (width - gap * len(values)) / max(len(values), 1)
    parts = [f'<svg class="bars" viewBox="0 0 {width} {height + 16}" role="img" '
             f'preserveAspectRatio="none" aria-label="max {top}">']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = value / top * (height - 14)
        x = i * (bar + gap)
        parts.append(f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" '
                     f'height="{h:.1f}"><title>{escape(label)}: {value}</title></rect>')
    parts.append(f'<text x="0" y="10" font-size="10">{top}</text>')
    if labels:
        parts.append(f'<text x="0" y="{height + 13}" font-size="10">{escape(labels[0])}</text>')
        parts.append(f'<text x="{width}" y="{height + 13}" font-size="10" text-anchor="end">'
                     f'{escape(labels[-1])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
