"""Small server-rendered SVG bar charts (no JavaScript, no CDN)."""

from __future__ import annotations

from html import escape


def bar_chart(
    title: str, rows: list[tuple[str, float]], width: int = 560, unit: str = ""
) -> str:
    """Horizontal bars, one per (label, value); accessible title and values in text."""
    bar_h, gap, label_w = 18, 6, 170
    height = max(1, len(rows)) * (bar_h + gap) + 30
    top = max((value for _, value in rows), default=0) or 1
    parts = [
        f'<svg class="chart" role="img" aria-labelledby="t-{abs(hash(title))}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="t-{abs(hash(title))}">{escape(title)}</title>',
        f'<text x="0" y="16" class="chart-title">{escape(title)}</text>',
    ]
    for i, (label, value) in enumerate(rows):
        y = 26 + i * (bar_h + gap)
        w = int((width - label_w - 70) * value / top)
        shown = f"{value:g}{unit}"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y}" width="{max(w, 1)}" height="{bar_h}"'
            ' class="bar"/>'
            f'<text x="{label_w + w + 6}" y="{y + 13}">{escape(shown)}</text>'
        )
    if not rows:
        parts.append('<text x="0" y="40">no data</text>')
    parts.append("</svg>")
    return "".join(parts)
