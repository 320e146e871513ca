"""Small inline SVG charts for the HTML report: no JavaScript, no external assets, text escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
INK, MUTED, ACCENT, SECOND, GRID = "#1f2937", "#6b7280", "#2563eb", "#f59e0b", "#e5e7eb"


def _frame(body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "middle", size: int = 11, color: str = MUTED) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{color}">{escape(text)}</text>'
    )


def _y_axis(top_value: float, label: str, *, percent: bool) -> list[str]:
    parts = []
    plot_height = HEIGHT - TOP - BOTTOM
    for step in range(5):
        value = top_value * step / 4
        y = HEIGHT - BOTTOM - plot_height * step / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        shown = f"{value:.0%}" if percent else f"{value:.3g}"
        parts.append(_text(LEFT - 6, y + 4, shown, anchor="end"))
    parts.append(
        f'<text x="14" y="{TOP + plot_height / 2:.1f}" font-size="11" fill="{MUTED}" text-anchor="middle" '
        f'transform="rotate(-90 14 {TOP + plot_height / 2:.1f})">{escape(label)}</text>'
    )
    return parts


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    y_label: str,
    percent: bool = False,
    reference: float | None = None,
    reference_label: str = "",
) -> str:
    """Vertical bars, one per label, with an optional dashed reference line (e.g. the overall rate)."""
    top_value = max([*values, reference or 0.0, 1e-9]) * 1.1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = _y_axis(top_value, y_label, percent=percent)
    slot = plot_width / max(len(values), 1)
    every = max(1, len(labels) // 14)  # keep the x labels legible on long series
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        height = plot_height * value / top_value
        x = LEFT + index * slot + slot * 0.15
        y = HEIGHT - BOTTOM - height
        body.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{ACCENT}">'
            f"<title>{escape(label)}: {value:.1%}</title></rect>"
            if percent
            else f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{ACCENT}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
        )
        if index % every == 0:
            body.append(_text(x + slot * 0.35, HEIGHT - BOTTOM + 16, label))
    if reference is not None:
        y = HEIGHT - BOTTOM - plot_height * reference / top_value
        body.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{SECOND}" '
            f'stroke-dasharray="6 4" stroke-width="2"/>'
        )
        body.append(_text(WIDTH - RIGHT, y - 6, reference_label, anchor="end", color=INK))
    return _frame(body, title)


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    y_label: str,
    percent: bool = False,
    diagonal: bool = False,
) -> str:
    """One polyline per series over shared x positions; `diagonal` draws the random-model line (gains chart)."""
    all_values = [value for _, values in series for value in values]
    top_value = 1.0 if percent and diagonal else max([*all_values, 1e-9]) * 1.1
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = _y_axis(top_value, y_label, percent=percent)
    count = max(len(x_labels), 1)

    def x_at(index: int) -> float:
        return LEFT + plot_width * (index + 0.5) / count

    def y_at(value: float) -> float:
        return HEIGHT - BOTTOM - plot_height * value / top_value

    if diagonal:
        body.append(
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="{MUTED}" '
            f'stroke-dasharray="4 4"/>'
        )
    colors = (ACCENT, SECOND, "#10b981", "#ef4444")
    every = max(1, len(x_labels) // 14)
    for index, label in enumerate(x_labels):
        if index % every == 0:
            body.append(_text(x_at(index), HEIGHT - BOTTOM + 16, label))
    for number, (name, values) in enumerate(series):
        color = colors[number % len(colors)]
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(values))
        body.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2.5"/>')
        body.extend(
            f'<circle cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="3" fill="{color}"/>' for i, v in enumerate(values)
        )
        body.append(_text(LEFT + 8 + number * 170, TOP + 12, f"— {name}", anchor="start", color=color, size=12))
    return _frame(body, title)


def grid_chart(
    rows: Sequence[str], columns: Sequence[str], cells: dict[tuple[str, str], tuple[float | None, int]], *, title: str
) -> str:
    """A heat grid (e.g. fit band by engagement band): each cell shows its rate and its number of leads."""
    cell_w = (WIDTH - LEFT - RIGHT) / max(len(columns), 1)
    cell_h = (HEIGHT - TOP - BOTTOM) / max(len(rows), 1)
    rates = [rate for rate, _ in cells.values() if rate is not None]
    top_rate = max([*rates, 1e-9])
    body: list[str] = []
    for r, row in enumerate(rows):
        body.append(_text(LEFT - 10, TOP + cell_h * (r + 0.5) + 4, f"fit {row}", anchor="end", color=INK))
        for c, column in enumerate(columns):
            rate, leads = cells.get((row, column), (None, 0))
            x, y = LEFT + c * cell_w, TOP + r * cell_h
            shade = 0.08 + 0.85 * (rate or 0.0) / top_rate
            fill = f"rgba(37,99,235,{shade:.2f})" if rate is not None else "#f9fafb"
            size = f'width="{cell_w - 4:.1f}" height="{cell_h - 4:.1f}"'
            body.append(f'<rect x="{x:.1f}" y="{y:.1f}" {size} fill="{fill}" rx="4"/>')
            text_color = "#ffffff" if shade > 0.55 else INK
            shown = "no leads" if rate is None else f"{rate:.0%}"
            body.append(_text(x + cell_w / 2 - 2, y + cell_h / 2 - 2, shown, size=16, color=text_color))
            body.append(_text(x + cell_w / 2 - 2, y + cell_h / 2 + 16, f"{leads} leads", size=11, color=text_color))
    for c, column in enumerate(columns):
        body.append(_text(LEFT + cell_w * (c + 0.5) - 2, HEIGHT - BOTTOM + 18, f"engagement {column}", color=INK))
    return _frame(body, title)


def calibration_chart(points: Sequence[tuple[float, float, int]], *, title: str) -> str:
    """Reliability diagram: (mean predicted, observed, leads) per probability bin on 0..1 axes, the dashed
    diagonal where a calibrated model sits; a dot's size grows with its number of leads."""
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    body = _y_axis(1.0, "observed", percent=True)
    body.append(
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="{MUTED}" '
        f'stroke-dasharray="4 4"/>'
    )
    for step in range(6):
        body.append(_text(LEFT + plot_width * step / 5, HEIGHT - BOTTOM + 16, f"{step / 5:.0%}"))
    body.append(_text(LEFT + plot_width / 2, HEIGHT - 8, "predicted probability"))
    largest = max([leads for _, _, leads in points] + [1])
    for predicted, observed, leads in points:
        x, y = LEFT + plot_width * predicted, HEIGHT - BOTTOM - plot_height * observed
        radius = 3 + 7 * (leads / largest) ** 0.5
        body.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="{ACCENT}" fill-opacity="0.75">'
            f"<title>predicted {predicted:.1%}, observed {observed:.1%}, {leads} leads</title></circle>"
        )
    return _frame(body, title)
