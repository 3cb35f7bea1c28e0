"""Charts for the report page: inline SVG built here, on the server (no script, no CDN).

One kind of chart serves every figure: horizontal bars, one per row, each split into
coloured segments with a legend. Every label is escaped; every number drawn is also
written beside its bar, so the chart reads without colour.

>>> svg = stacked_bars("Deflection", [("Dacorum", [("confirmed", 2), ("none", 1)])])
>>> svg.startswith("<svg")
True
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

#: colour-blind-safe segment colours (Okabe–Ito), in order
COLOURS = ("#0072B2", "#E69F00", "#D55E00", "#009E73", "#CC79A7", "#56B4E9")
WIDTH, LABEL, BAR, GAP, VALUE = 720, 250, 22, 10, 70

Row = tuple[str, Sequence[tuple[str, float]]]


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def stacked_bars(
    title: str, rows: Sequence[Row], *, unit: str = "", scale: float | None = None
) -> Markup:
    """Bars for ``rows`` of (label, [(segment, value)]); ``scale`` is the full width's
    value (the largest row's total when not given)."""
    segments = list(dict.fromkeys(name for _, parts in rows for name, _ in parts))
    colour = {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(segments)}
    biggest = max((sum(v for _, v in parts) for _, parts in rows), default=0)
    full = scale or biggest or 1
    track = WIDTH - LABEL - VALUE
    legend_y = GAP + len(rows) * (BAR + GAP) + 6
    height = legend_y + 24
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (label, parts) in enumerate(rows):
        y = GAP + i * (BAR + GAP)
        out.append(
            f'<text x="{LABEL - 8}" y="{y + BAR * 0.7:.1f}" text-anchor="end" '
            f'font-size="13">{escape(label)}</text>'
        )
        x = float(LABEL)
        for name, value in parts:
            width = track * value / full if full else 0
            if width > 0:
                out.append(
                    f'<rect class="bar" x="{x:.1f}" y="{y}" width="{width:.1f}" height="{BAR}" '
                    f'fill="{colour[name]}" data-segment="{escape(name)}" '
                    f'data-value="{_number(value)}"><title>{escape(label)}, {escape(name)}: '
                    f"{_number(value)}{escape(unit)}</title></rect>"
                )
            x += width
        # a row with no segments has nothing to measure (no ticket decided): a dash, not 0
        total = f"{_number(sum(v for _, v in parts))}{escape(unit)}" if parts else "—"
        out.append(
            f'<text class="total" x="{x + 6:.1f}" y="{y + BAR * 0.7:.1f}" '
            f'font-size="13">{total}</text>'
        )
    x = float(LABEL)
    for name in segments:
        out.append(
            f'<rect x="{x:.1f}" y="{legend_y}" width="12" height="12" fill="{colour[name]}"/>'
            f'<text x="{x + 16:.1f}" y="{legend_y + 11}" font-size="12">{escape(name)}</text>'
        )
        x += 24 + 7.5 * len(name)
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every label above went through escape()


def report_charts(report: dict[str, object], name: dict[str, str]) -> dict[str, Markup]:
    """The page's charts from the report dict: deflection, tickets by category, the cost
    split and SLA attainment. ``name`` maps council keys to display names."""
    councils: dict[str, dict[str, object]] = report["councils"]  # type: ignore[assignment]
    total: dict[str, object] = report["all"]  # type: ignore[assignment]
    label = {key: name.get(key, key) for key in councils}

    def pairs(block: dict[str, object], field: str) -> list[tuple[str, float]]:
        values: dict[str, float] = block[field]  # type: ignore[assignment]
        return list(values.items())

    def share(field: str) -> list[tuple[str, float]]:
        return [
            (label[k], b["cost_share"][field] or 0)  # type: ignore[index]
            for k, b in councils.items()
        ]

    sla: dict[str, dict[str, dict[str, object]]] = total["sla_attainment"]  # type: ignore[assignment]
    attainment: list[Row] = [
        (
            f"{clock.capitalize()} {priority}",
            [] if cell["percent"] is None else [("met %", float(cell["percent"]))],  # type: ignore[arg-type]
        )
        for clock, cells in sla.items()
        for priority, cell in cells.items()
    ]
    return {
        "deflection": stacked_bars(
            "Deflection of answers",
            [(label[k], pairs(b, "deflection")) for k, b in councils.items()],
        ),
        "categories": stacked_bars(
            "Tickets raised by category",
            [(label[k], pairs(b, "tickets_by_category")) for k, b in councils.items()],
        ),
        "cost_split": stacked_bars(
            "Share of tickets and agent time",
            [("Tickets", share("tickets")), ("Agent time", share("agent_minutes"))],
            unit="%",
            scale=100,
        ),
        "sla": stacked_bars("SLA attainment (all councils)", attainment, unit="%", scale=100),
    }
