"""Server-rendered charts: geometry computed here, drawn by templates/charts.html.

No JavaScript: every chart is also a table in the page for screen readers (the bars are
``aria-hidden``), so the numbers are never only in the picture.  The bars are HTML boxes placed in
percent of the bar area, not an SVG scaled to the screen: a scaled SVG shrank its 13 px labels to
7 px at 390 px and cut long names with "…"; HTML labels keep the page's type size and wrap.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

ROW_HEIGHT = 22
LABEL_WIDTH = 230
BAR_AREA = 320
VALUE_WIDTH = 60


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    text: str  # the value as shown
    x: float
    y: float
    width: float
    negative: bool = False
    below_target: bool = False

    @property
    def left_pct(self) -> float:
        """Where the bar starts, in percent of the bar area."""
        return max(0.0, min(100.0, (self.x - LABEL_WIDTH) / BAR_AREA * 100))

    @property
    def width_pct(self) -> float:
        return max(0.0, min(100.0 - self.left_pct, self.width / BAR_AREA * 100))


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    axis_x: float  # where zero is
    target_x: float | None = None
    target_text: str = ""

    @property
    def bar_height(self) -> int:
        return ROW_HEIGHT - 6

    @property
    def label_width(self) -> int:
        return LABEL_WIDTH

    @property
    def axis_pct(self) -> float:
        return (self.axis_x - LABEL_WIDTH) / BAR_AREA * 100

    @property
    def target_pct(self) -> float | None:
        return None if self.target_x is None else (self.target_x - LABEL_WIDTH) / BAR_AREA * 100


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def share_bars(title: str, rows: Sequence[tuple[str, float | None]], *, target: float | None = None,
               target_text: str = "") -> BarChart:
    """Horizontal bars of shares in [0, 1] (rates, fill, hours share), optionally against a target."""
    bars = []
    for i, (label, value) in enumerate(rows):
        width = 0.0 if value is None else max(0.0, min(1.0, value)) * BAR_AREA
        bars.append(Bar(label, value, _percent(value), LABEL_WIDTH, i * ROW_HEIGHT + 3, width,
                        below_target=target is not None and value is not None and value < target))
    return BarChart(title, bars, LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, max(1, len(rows)) * ROW_HEIGHT,
                    LABEL_WIDTH, None if target is None else LABEL_WIDTH + target * BAR_AREA, target_text)


def count_bars(title: str, rows: Sequence[tuple[str, int]]) -> BarChart:
    """Horizontal bars of counts, scaled to the largest."""
    top = max((v for _, v in rows), default=0) or 1
    bars = [Bar(label, value, str(value), LABEL_WIDTH, i * ROW_HEIGHT + 3, value / top * BAR_AREA)
            for i, (label, value) in enumerate(rows)]
    return BarChart(title, bars, LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, max(1, len(rows)) * ROW_HEIGHT, LABEL_WIDTH)


def contribution_shares(values: Sequence[float]) -> list[float]:
    """Each contribution as a signed share (percent) of all contributions together: what people
    read ("专业对口 +35 %") instead of log-odds, and still exactly proportional to them."""
    total = sum(abs(v) for v in values)
    return [100.0 * v / total if total else 0.0 for v in values]


def share_text(share: float) -> str:
    return f"{share:+.0f} %"


def contribution_bars(title: str, rows: Sequence[tuple[str, float]]) -> BarChart:
    """Diverging bars of a score's named contributions: right adds to fit, left subtracts; each
    labelled with its share of the whole explanation."""
    top = max((abs(v) for _, v in rows), default=0.0) or 1.0
    half = BAR_AREA / 2
    axis = LABEL_WIDTH + half
    bars = []
    shares = contribution_shares([v for _, v in rows])
    for i, ((label, value), share) in enumerate(zip(rows, shares, strict=True)):
        width = abs(value) / top * half
        x = axis - width if value < 0 else axis
        bars.append(Bar(label, value, share_text(share), x, i * ROW_HEIGHT + 3, width, negative=value < 0))
    return BarChart(title, bars, LABEL_WIDTH + BAR_AREA + VALUE_WIDTH, max(1, len(rows)) * ROW_HEIGHT, axis)
