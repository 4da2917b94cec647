"""The dashboard's charts, drawn on the server as SVG with pygal and inlined in the page:
no JavaScript, nothing fetched from the web, readable without a network.

pygal builds the SVG as an XML tree and serialises it, so every label and title is
escaped by the serialiser; only then is the markup marked safe for the template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pygal  # type: ignore[import-untyped]
from django.utils.safestring import SafeString, mark_safe
from pygal.style import Style  # type: ignore[import-untyped]

from integrations.dashboard.selectors import ChartKind, ChartSeries
from integrations.models import SyncJob

# The outcome colours of the job list's badges: succeeded green, failed red, needs
# review amber, dismissed grey, skipped blue-grey. Other charts use the first.
SERIES_COLOURS = {
    SyncJob.State.SUCCEEDED.label: "#2e7d32",
    SyncJob.State.FAILED.label: "#c62828",
    SyncJob.State.NEEDS_REVIEW.label: "#e69b00",
    SyncJob.State.DISMISSED.label: "#8a8a8a",
    SyncJob.State.SKIPPED.label: "#7fa7c9",
}
DEFAULT_COLOUR = "#417690"  # the admin's own blue

# Text takes the admin's colours (light or dark theme) through its CSS variables, which
# reach an SVG inlined in the page.
FONT = "-apple-system, 'Segoe UI', system-ui, Roboto, 'Helvetica Neue', Arial, sans-serif"

SIZES = {
    ChartKind.STACKED_BARS: (960, 300),
    ChartKind.BARS: (600, 320),
    ChartKind.HORIZONTAL_BARS: (600, 320),
}


class _NoTooltipData:
    """pygal writes into every bar the data its tooltip script reads. With no script
    that is work for nothing: a third of the time of drawing a week of hours (840 bars).
    Bars that print their value keep pygal's drawing of it."""

    print_values: bool

    def _tooltip_and_print_values(self, *args: Any, **kwargs: Any) -> None:
        if self.print_values:
            super()._tooltip_and_print_values(*args, **kwargs)  # type: ignore[misc]


class _StackedBar(_NoTooltipData, pygal.StackedBar):  # type: ignore[misc]
    pass


class _Bar(_NoTooltipData, pygal.Bar):  # type: ignore[misc]
    pass


GRAPHS = {
    ChartKind.STACKED_BARS: _StackedBar,
    ChartKind.BARS: _Bar,
    ChartKind.HORIZONTAL_BARS: pygal.HorizontalBar,
}


@dataclass(frozen=True)
class LegendEntry:
    name: str
    colour: str


@dataclass(frozen=True)
class RenderedChart:
    series: ChartSeries
    svg: SafeString
    # Written in HTML under the chart, so it stays readable however small the SVG is
    # drawn; empty for a chart of one series.
    legend: tuple[LegendEntry, ...]


def chart_render(chart: ChartSeries) -> RenderedChart:
    legend = tuple(LegendEntry(serie.name, _colour(serie.name)) for serie in chart.series)
    return RenderedChart(
        series=chart, svg=chart_svg(chart), legend=legend if len(legend) > 1 else ()
    )


def chart_svg(chart: ChartSeries) -> SafeString:
    """The chart as inline SVG markup: scales to its container (a viewBox, no fixed
    size), no script, and a native tooltip on every bar."""
    width, height = SIZES[chart.kind]
    graph = GRAPHS[chart.kind](
        width=width,
        height=height,
        style=_style(chart),
        disable_xml_declaration=True,
        # pygal adds scripts of its own for interactive tooltips: none is loaded from
        # the web (js), and the inline one is taken out (the XML filters below).
        js=[],
        show_legend=False,
        truncate_label=-1,
        truncate_legend=-1,
        value_formatter=lambda value: f"{value:,.0f}",
        print_values=chart.kind == ChartKind.HORIZONTAL_BARS,
        no_data_text="Nothing yet",
        margin=8,
        # Room for the last date under the axis.
        margin_right=28,
        spacing=8,
    )
    labels = list(chart.labels)
    series = [(serie.name, list(serie.values)) for serie in chart.series]
    if chart.kind == ChartKind.HORIZONTAL_BARS:
        # pygal draws the first label at the bottom: the most frequent goes on top.
        labels.reverse()
        for _, values in series:
            values.reverse()
    graph.x_labels = labels
    if chart.axis_labels:
        graph.x_labels_major = list(chart.axis_labels)
        graph.show_minor_x_labels = False
    if chart.total:
        for name, values in series:
            graph.add(name, values)
    graph.add_xml_filter(_svg_cleaned(chart))
    graph.add_xml_filter(_bars_titled(labels, series))
    # Serialised by pygal's XML library, which escapes every text and attribute.
    return mark_safe(str(graph.render(is_unicode=True)))  # noqa: S308


def _style(chart: ChartSeries) -> Any:
    return Style(
        background="transparent",
        plot_background="transparent",
        foreground="var(--body-fg, #333)",
        foreground_strong="var(--body-fg, #333)",
        foreground_subtle="var(--hairline-color, #ddd)",
        font_family=FONT,
        label_font_size=13,
        major_label_font_size=13,
        legend_font_size=13,
        value_font_size=12,
        no_data_font_size=18,
        guide_stroke_color="var(--hairline-color, #e8e8e8)",
        major_guide_stroke_color="var(--hairline-color, #e8e8e8)",
        guide_stroke_dasharray="none",
        major_guide_stroke_dasharray="none",
        opacity="1",
        opacity_hover=".75",
        colors=tuple(_colour(serie.name) for serie in chart.series),
    )


def _colour(serie_name: str) -> str:
    return SERIES_COLOURS.get(serie_name, DEFAULT_COLOUR)


def _svg_cleaned(chart: ChartSeries) -> Any:
    """Drop pygal's inline script and its comments (the page runs no chart script), and
    name the chart after its title (pygal names every chart "Pygal")."""

    def clean(root: Any) -> Any:
        for parent in list(root.iter()):
            for child in list(parent):
                if child.tag == "script" or not isinstance(child.tag, str):
                    parent.remove(child)
        for child in root:
            if child.tag == "title":
                child.text = chart.title
        return root

    return clean


def _bars_titled(labels: list[str], series: list[tuple[str, list[int]]]) -> Any:
    """Each bar gets a `<title>`, which browsers show on hover without any script
    ("Failed: 3 (Tue 3 Dec 14:00)"); empty bars go, and coordinates keep two decimals
    and nothing else: a week of hours is 840 bars."""

    def title(root: Any) -> Any:
        for group in root.iter("g"):
            classes = (group.get("class") or "").split()
            if "series" not in classes:
                continue
            index = next(int(c.removeprefix("serie-")) for c in classes if c.startswith("serie-"))
            name, values = series[index]
            for bars in list(group):
                drawn = [bar for bar in bars if bar.get("class") == "bar"]
                # pygal draws one bar per value, in the order of the labels.
                for bar, label, value in zip(drawn, labels, values, strict=False):
                    _bar_title(bars, bar, f"{name}: {value:,} ({label})", empty=not value)
        return root

    return title


def _bar_title(bars: Any, bar: Any, text: str, *, empty: bool) -> None:
    if empty:
        bars.remove(bar)
        return
    for desc in list(bar.iter("desc")):
        bar.remove(desc)
    title = bar.makeelement("title", {})
    title.text = text
    bar.insert(0, title)
    for rect in bar.iter("rect"):
        for attribute in ("x", "y", "width", "height"):
            if rect.get(attribute) is not None:
                rect.set(attribute, f"{float(rect.get(attribute)):.2f}")
        # Square corners are the default; the tooltip class only served pygal's script.
        for attribute in ("rx", "ry"):
            rect.attrib.pop(attribute, None)
        rect.set("class", "rect reactive")
