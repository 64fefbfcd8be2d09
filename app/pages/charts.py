"""Charts drawn on the server as SVG with matplotlib (Agg's SVG backend, no pyplot state). Glyphs
are written as paths in WenQuanYi Micro Hei, the certificate's font, so Chinese labels read the same
in any browser with no font and no outside host. The coordinates are floats — only the picture; every
figure printed on the pages is the API's Decimal."""

import html
import io
import re
import threading
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib.resources import files

from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

_FONT_FILE = str(files("paperang_p2_fonts_cjk") / "fonts" / "wqy-microhei.ttc")
font_manager.fontManager.addfont(_FONT_FILE)
FONT = font_manager.FontProperties(fname=_FONT_FILE).get_name()
STYLE = {
    "font.family": [FONT],
    "svg.fonttype": "path",
    "svg.hashsalt": "techex",  # the same data draws the same bytes (ids are otherwise random)
    "axes.unicode_minus": False,
    "text.parse_math": False,  # a target's name is text: a "$" in it is no formula
}
# matplotlib's font and text caches are shared: one chart is drawn at a time.
_LOCK = threading.Lock()
_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)


def _svg(figure: Figure, title: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = _METADATA.sub("", _PROLOGUE.sub("", buffer.getvalue(), count=1), count=1)
    # Inline in the page: scales to its box, and a screen reader reads the title.
    svg = re.sub(r'<svg ([^>]*?)width="[^"]*" height="[^"]*"', r"<svg \1", svg, count=1)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(title)}" ', 1)


def _yi(value: float, _position: float) -> str:
    return f"{value:,.0f}" if value >= 10 or value == 0 else f"{value:,.2f}"


@lru_cache(maxsize=256)
def cumulative(
    title: str,
    months: tuple[date, ...],
    cumulative_amounts: tuple[Decimal, ...],
    target: Decimal,
    period: tuple[date, date],
) -> str:
    """Cumulative amount by month (亿元) against the target line and the straight-line schedule.
    Cached by its arguments: the same numbers draw the same chart, and drawing costs ~50 ms."""
    import matplotlib

    with _LOCK, matplotlib.rc_context(STYLE):
        figure = Figure(figsize=(5.6, 3.4), layout="constrained")
        axes = figure.add_subplot()
        scale = 1e8
        start, end = period
        axes.plot(
            [start, end], [0, float(target) / scale], color="#8a8a8a", linestyle=":", label="按期均摊进度"
        )
        axes.axhline(float(target) / scale, color="#b3261e", linestyle="--", label="目标")
        if months:
            axes.plot(
                list(months),
                [float(a) / scale for a in cumulative_amounts],
                color="#1f5fa8",
                marker="o",
                markersize=3,
                linewidth=2,
                label="累计完成",
            )
        axes.set_xlim(start, end)
        # Head room above the target line for the legend.
        highest = max([target, *cumulative_amounts])
        axes.set_ylim(0, float(highest) / scale * 1.3 or 1)
        axes.set_ylabel("亿元")
        axes.yaxis.set_major_formatter(FuncFormatter(_yi))
        axes.grid(axis="y", color="#dddddd")
        axes.legend(loc="upper left", frameon=False, fontsize=9)
        axes.set_title(title, fontsize=11)
        figure.autofmt_xdate()
        return _svg(figure, title)


@lru_cache(maxsize=256)
def bars(title: str, labels: tuple[str, ...], amounts: tuple[Decimal, ...]) -> str:
    """A horizontal bar per group (亿元), largest first as given."""
    import matplotlib

    with _LOCK, matplotlib.rc_context(STYLE):
        height = 0.9 + 0.32 * max(len(labels), 1)
        figure = Figure(figsize=(5.6, height), layout="constrained")
        axes = figure.add_subplot()
        positions = list(range(len(labels)))
        axes.barh(positions, [float(a) / 1e8 for a in amounts], color="#1f5fa8")
        axes.set_yticks(positions, list(labels), fontsize=9)
        axes.invert_yaxis()
        axes.set_xlabel("亿元")
        axes.xaxis.set_major_formatter(FuncFormatter(_yi))
        axes.grid(axis="x", color="#dddddd")
        axes.set_title(title, fontsize=11)
        return _svg(figure, title)


def chart_months(first: date, last: date) -> Sequence[date]:
    """The first day of every month from `first`'s to `last`'s."""
    months = []
    month = first.replace(day=1)
    while month <= last:
        months.append(month)
        month = month.replace(year=month.year + month.month // 12, month=month.month % 12 + 1)
    return months
