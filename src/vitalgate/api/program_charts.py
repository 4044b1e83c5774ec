"""Server-rendered SVG charts of the program dashboard (no script): funnel, trends, arm comparison, SMD plot.

Every chart is a small inline <svg> with a <title> and text labels, so it reads without colour
and prints; numbers come from vitalgate.programs (the same as the CSV export).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from markupsafe import Markup

from vitalgate.programs.balance import SMD_TARGET, BalanceRow
from vitalgate.programs.stats import Estimate

COLOURS = ("#1f6f8b", "#d1495b", "#edae49", "#66a182", "#6c5b7b")
W, ROW = 640, 26


def _svg(height: int, title: str, body: str, width: int = W) -> Markup:
    return Markup(
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="{width}" style="max-width:100%;height:auto" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )


def funnel(title: str, steps: Sequence[tuple[str, int]]) -> Markup:
    """Horizontal bars, one per step, widths relative to the first step, count and share written."""
    top = max((n for _, n in steps), default=0) or 1
    parts = []
    for i, (label, n) in enumerate(steps):
        y = 8 + i * ROW
        width = (W - 260) * n / top
        share = f"{n / steps[0][1]:.0%}" if steps and steps[0][1] else "—"
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="13">{escape(label)}</text>'
            f'<rect x="120" y="{y}" width="{width:.1f}" height="{ROW - 6}" fill="{COLOURS[0]}"/>'
            f'<text x="{126 + width:.1f}" y="{y + 15}" font-size="13">{n} ({share})</text>'
        )
    return _svg(16 + ROW * len(steps), title, "".join(parts))


def trend(title: str, series: dict[str, list[tuple[date, Estimate]]]) -> Markup:
    """Monthly proportions (0-100 %) per group, one line each, with 95 % interval bands as whiskers."""
    height, left, bottom = 200, 44, 170
    months = sorted({m for points in series.values() for m, _ in points})
    if not months:
        return _svg(30, title, '<text x="0" y="20" font-size="13">—</text>')
    step = (W - left - 120) / max(1, len(months) - 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, bottom - v * (bottom - 10)

    parts = [
        f'<line x1="{left}" y1="{bottom}" x2="{W - 120}" y2="{bottom}" stroke="#999"/>',
        f'<text x="0" y="{bottom}" font-size="11">0 %</text><text x="0" y="16" font-size="11">100 %</text>',
    ]
    for i, m in enumerate(months):
        parts.append(f'<text x="{left + i * step - 16:.1f}" y="{bottom + 16}" font-size="11">{m:%Y-%m}</text>')
    for k, (group, points) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        coords = []
        for i, m in enumerate(months):
            e = dict(points).get(m)
            if e is None or e.value is None:
                continue
            x, y = xy(i, e.value)
            coords.append(f"{x:.1f},{y:.1f}")
            if e.low is not None and e.high is not None:
                parts.append(
                    f'<line x1="{x:.1f}" y1="{xy(i, e.low)[1]:.1f}" x2="{x:.1f}" y2="{xy(i, e.high)[1]:.1f}" '
                    f'stroke="{colour}" stroke-width="1"/>'
                )
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')
        if coords:
            parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{W - 110}" y="{20 + 16 * k}" font-size="12" fill="{colour}">■ {escape(group)}</text>')
    return _svg(height, title, "".join(parts))


def arms(title: str, rows: Sequence[tuple[str, Estimate]], scale: float = 100.0, unit: str = "%") -> Markup:
    """One bar per arm with its 95 % interval as a whisker (proportions by default, shown in %)."""
    values = [e.high if e.high is not None else e.value for _, e in rows]
    top = max((v for v in values if v is not None), default=0) or 1
    parts = []
    for i, (label, e) in enumerate(rows):
        y = 8 + i * ROW
        if e.value is None:
            parts.append(f'<text x="0" y="{y + 15}" font-size="13">{escape(label)}: — (n={e.n})</text>')
            continue
        width = (W - 300) * e.value / top
        parts.append(
            f'<text x="0" y="{y + 15}" font-size="13">{escape(label)}</text>'
            f'<rect x="110" y="{y}" width="{width:.1f}" height="{ROW - 6}" fill="{COLOURS[i % len(COLOURS)]}"/>'
        )
        if e.low is not None and e.high is not None:
            x1, x2 = 110 + (W - 300) * e.low / top, 110 + (W - 300) * e.high / top
            parts.append(
                f'<line x1="{x1:.1f}" y1="{y + 10}" x2="{x2:.1f}" y2="{y + 10}" stroke="#222" stroke-width="2"/>'
            )
        parts.append(f'<text x="{W - 180}" y="{y + 15}" font-size="13">{e.value * scale:.1f} {unit} (n={e.n})</text>')
    return _svg(16 + ROW * len(rows), title, "".join(parts))


def smd_plot(title: str, rows: Sequence[BalanceRow]) -> Markup:
    """Each covariate's SMD as a dot on −0.3…0.3 with the ±0.1 target band (Love plot)."""
    left, right, lim = 220, W - 20, 0.3

    def x(v: float) -> float:
        v = max(-lim, min(lim, v))
        return left + (v + lim) / (2 * lim) * (right - left)

    height = 30 + ROW * len(rows)
    parts = [
        f'<rect x="{x(-SMD_TARGET):.1f}" y="0" width="{x(SMD_TARGET) - x(-SMD_TARGET):.1f}" height="{height - 20}"'
        ' fill="#e8f3ec"/>',
        f'<line x1="{x(0):.1f}" y1="0" x2="{x(0):.1f}" y2="{height - 20}" stroke="#999"/>',
        f'<text x="{x(-lim) - 8:.1f}" y="{height - 4}" font-size="11">−0.3</text>'
        f'<text x="{x(0) - 4:.1f}" y="{height - 4}" font-size="11">0</text>'
        f'<text x="{x(lim) - 16:.1f}" y="{height - 4}" font-size="11">0.3</text>',
    ]
    for i, r in enumerate(rows):
        y = 4 + i * ROW
        label = r.covariate + (f" = {r.level}" if r.level else "")
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{escape(label)}</text>')
        if r.smd is not None:
            colour = COLOURS[0] if r.balanced else COLOURS[1]
            parts.append(f'<circle cx="{x(r.smd):.1f}" cy="{y + 10}" r="5" fill="{colour}"/>')
    return _svg(height, title, "".join(parts))
