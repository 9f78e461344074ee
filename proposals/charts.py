"""Server-rendered SVG charts for the staff dashboard: no JavaScript, no chart library.
This module computes the geometry; templates/proposals/_chart_bars.html draws it, with a
title, a description and the numbers as a table (accessible and printable)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Layout of a horizontal bar chart, in SVG user units: drawn at this size (1 unit = 1 CSS
# pixel, so the 12px labels stay readable) and shrunk only where the page is narrower.
WIDTH = 480
LABEL_WIDTH = 150
VALUE_WIDTH = 64
BAR_HEIGHT = 18
BAR_GAP = 8
PADDING = 6
# Charts with more bars than this take two rows of the dashboard's grid.
TALL_BARS = 12


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str  # the value as people read it, e.g. "12" or "3.4 ha"
    y: float
    width: float
    extra: str = ""  # a second number for the table, e.g. the area beside the count

    @property
    def label_y(self) -> float:
        return self.y + BAR_HEIGHT * 0.75


@dataclass(frozen=True)
class BarChart:
    slug: str
    title: str
    description: str
    value_heading: str
    label_heading: str
    bars: list[Bar]
    extra_heading: str = ""
    empty_text: str = ""
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    bar_x: int = LABEL_WIDTH + PADDING
    notes: list[str] = field(default_factory=list)

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP

    @property
    def bar_height(self) -> int:
        return BAR_HEIGHT

    @property
    def label_x(self) -> int:
        return self.label_width

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def is_tall(self) -> bool:
        return len(self.bars) > TALL_BARS


def bar_chart(
    *,
    slug: str,
    title: str,
    description: str,
    label_heading: str,
    value_heading: str,
    rows: Sequence[tuple[str, float, str]],
    extra: Sequence[str] | None = None,
    extra_heading: str = "",
    empty_text: str = "",
) -> BarChart:
    """A horizontal bar chart of `rows` (label, value, value as text), bars scaled to the
    largest value; `extra` adds a column to the table only."""
    largest = max((value for _, value, _ in rows), default=0) or 1
    span = WIDTH - LABEL_WIDTH - PADDING - VALUE_WIDTH
    bars = [
        Bar(
            label=label,
            value=value,
            text=text,
            y=BAR_GAP + index * (BAR_HEIGHT + BAR_GAP),
            # A visible sliver for small non-zero values; nothing for zero.
            width=round(max(value / largest * span, 2 if value else 0), 1),
            extra=extra[index] if extra else "",
        )
        for index, (label, value, text) in enumerate(rows)
    ]
    return BarChart(
        slug=slug,
        title=title,
        description=description,
        label_heading=label_heading,
        value_heading=value_heading,
        bars=bars,
        extra_heading=extra_heading,
        empty_text=empty_text,
    )


def outline_path(geom: Any, *, size: int = 200, margin: int = 4) -> str:
    """An SVG path `d` drawing a (multi)polygon in a `size`×`size` box, north up (the
    geometry in a metric SRID). For a glance at an inquiry's drawn area, without a map."""
    xmin, ymin, xmax, ymax = geom.extent
    scale = (size - 2 * margin) / (max(xmax - xmin, ymax - ymin) or 1)
    polygons = geom if geom.geom_type == "MultiPolygon" else [geom]
    parts: list[str] = []
    for polygon in polygons:
        for ring in polygon:
            points = [
                f"{margin + (x - xmin) * scale:.1f},{size - margin - (y - ymin) * scale:.1f}"
                for x, y in ring.coords
            ]
            parts.append("M" + " L".join(points) + " Z")
    return " ".join(parts)
