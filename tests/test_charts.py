"""Drawing charts (``charts``), without a database: which way the axes run,
where the points land, the legend, the text alternative and the table."""
from __future__ import annotations

import json
import re

import pytest

from ckanext.vernetztestadt import charts
from ckanext.vernetztestadt.harvest.harvesters.broadband import CHART as BROADBAND
from ckanext.vernetztestadt.harvest.harvesters.ranking import CHART as RANKING

#: Gelsenkirchen's published shares (Breitbandatlas | Gigabit-Grundbuch, end of
#: 2018 and end of 2020; harvesters/snapshots/README.md)
BROADBAND_ROWS = [
    {"reference_date": "2018-12-31", "technology": "all", "min_mbit": "50",
     "households_pct": "98"},
    {"reference_date": "2020-12-31", "technology": "all", "min_mbit": "50",
     "households_pct": "99,39"},
    {"reference_date": "2018-12-31", "technology": "ftth_b", "min_mbit": "1000",
     "households_pct": "6"},
    {"reference_date": "2020-12-31", "technology": "ftth_b", "min_mbit": "1000",
     "households_pct": "47,99"},
]


def draw(rows: list[dict[str, str]], config: dict, decimal: str = ".") -> str:
    chart = charts.chart_from_rows(rows, charts.chart_config(json.dumps(config)), decimal)
    return str(charts.svg(chart))


def tick_positions(svg: str) -> dict[str, float]:
    """Value-axis label -> its y coordinate (labels right-aligned at LEFT - 6)."""
    return {label: float(y) - 4 for y, label in re.findall(
        rf'<text x="{charts.LEFT - 6}" y="([0-9.]+)" text-anchor="end"[^>]*>([^<]+)</text>',
        svg)}


def point_y(svg: str, tip: str) -> float:
    match = re.search(r'<circle cx="[0-9.]+" cy="([0-9.]+)"[^>]*><title>' + re.escape(tip), svg)
    assert match, tip
    return float(match.group(1))


def test_shares_run_from_0_at_the_bottom_to_100_at_the_top():
    svg = draw(BROADBAND_ROWS, BROADBAND, ",")
    ticks = tick_positions(svg)
    assert list(ticks) == ["0", "20", "40", "60", "80", "100"]
    assert ticks["0"] == charts.HEIGHT - charts.BOTTOM and ticks["100"] == charts.TOP
    high = point_y(svg, "alle Technologien ≥ 50 Mbit/s 31.12.2020: Haushalte in % 99,39")
    low = point_y(svg, "FTTH/B ≥ 1000 Mbit/s 31.12.2018: Haushalte in % 6")
    assert high < low  # 99,39 % above 6 %
    span = ticks["0"] - ticks["100"]
    assert high == pytest.approx(ticks["100"] + 0.0061 * span, abs=0.2)
    assert low == pytest.approx(ticks["100"] + 0.94 * span, abs=0.2)


def test_places_have_1_on_top_and_the_line_above_the_axis():
    rows = [{"edition": "2021", "area": "Gesamt", "rank": "6"},
            {"edition": "2023", "area": "Gesamt", "rank": "6"}]
    svg = draw(rows, RANKING)
    ticks = tick_positions(svg)
    assert ticks["1"] == charts.TOP and min(ticks.values()) == charts.TOP
    y = point_y(svg, "Gesamt 2021: Platz 6")
    assert charts.TOP < y < charts.HEIGHT - charts.BOTTOM - 20  # not on the x-axis
    assert ticks["1"] < y


def test_better_places_are_drawn_higher():
    rows = [{"edition": "2021", "area": "Gesamt", "rank": "22"},
            {"edition": "2022", "area": "Gesamt", "rank": "17"},
            {"edition": "2022", "area": "IT und Kommunikation", "rank": "1"}]
    svg = draw(rows, RANKING)
    assert point_y(svg, "IT und Kommunikation 2022: Platz 1") == charts.TOP
    assert point_y(svg, "Gesamt 2022: Platz 17") < point_y(svg, "Gesamt 2021: Platz 22")


def test_the_legend_is_html_below_the_chart_and_lines_differ_by_more_than_colour():
    svg = draw(BROADBAND_ROWS, BROADBAND, ",")
    chart_part, legend = svg.split("</svg>", 1)
    assert "vts-chart-legend" not in chart_part and 'class="vts-chart-legend"' in legend
    assert re.findall(r"</svg> ([^<]+)</li>", legend) == [
        "alle Technologien ≥ 50 Mbit/s", "FTTH/B ≥ 1000 Mbit/s"]
    dashes = re.findall(r'class="vts-series"[^>]*stroke-dasharray="([^"]+)"', chart_part)
    assert len(set(dashes)) == 2
    # nothing is drawn right of the plot area, where the old legend was cut off
    xs = [float(x) for x in re.findall(r'<text x="([0-9.]+)"', chart_part)]
    assert max(xs) <= charts.WIDTH - charts.RIGHT


def test_a_text_alternative_and_a_table():
    chart = charts.chart_from_rows(BROADBAND_ROWS, charts.chart_config(json.dumps(BROADBAND)),
                                   ",")
    desc = re.search(r"<desc>([^<]+)</desc>", str(charts.svg(chart))).group(1)
    assert desc == ("Haushalte in % für alle Technologien ≥ 50 Mbit/s, FTTH/B ≥ 1000 Mbit/s "
                    "(2), Stichtag 31.12.2018 bis 31.12.2020; Werte von 6 bis 99,39.")
    table = str(charts.data_table(chart))
    assert '<th scope="col">31.12.2018</th>' in table
    assert '<th scope="row">FTTH/B ≥ 1000 Mbit/s</th><td>6</td><td>47,99</td>' in table


def test_dots_place_one_point_per_category():
    rows = [{"area": "Gesamt", "rank": "17", "city": "Gelsenkirchen"},
            {"area": "IT und Kommunikation", "rank": "1", "city": "Gelsenkirchen"},
            {"area": "Gesamt", "rank": "1", "city": "München"}]
    config = {"type": "dots", "x": "area", "y": "rank", "invert_y": True,
              "y_range": [1, 81], "where": [{"city": "Gelsenkirchen"}],
              "title": "Plätze", "y_label": "Platz"}
    svg = draw(rows, config)
    assert 'stroke="none"' in svg  # no line between categories
    assert "München" not in svg
    assert point_y(svg, "IT und Kommunikation: Platz 1") == charts.TOP
    gesamt = point_y(svg, "Gesamt: Platz 17")
    assert gesamt == pytest.approx(charts.TOP + 16 / 80 * (charts.HEIGHT - charts.BOTTOM
                                                             - charts.TOP), abs=0.2)
    assert ">IT und Kommunikation</text>" in svg and ">Gesamt</text>" in svg


@pytest.mark.parametrize("values, inverted, fixed, low, high", [
    ([6, 6], True, None, 1, 8), ([22, 11, 4], True, None, 1, 30), ([1], True, None, 1, 2),
    ([6, 99.39], False, (0, 100), 0, 100), ([3.5, 7.2], False, None, 0, 8),
    ([-3, 5], False, None, -4, 6), ([0, 0], False, None, 0, 0.2)])
def test_value_axes(values, inverted, fixed, low, high):
    axis = charts.value_axis(values, inverted, fixed)
    assert (axis.low, axis.high) == (low, high)
    assert axis.ticks[0] == low and axis.ticks[-1] <= high
    assert list(axis.ticks) == sorted(set(axis.ticks))


@pytest.mark.parametrize("config", [
    {"x": "a", "y": "b", "y_range": [100, 0]}, {"x": "a", "y": "b", "y_range": [0]},
    {"x": "a", "y": "b", "y_range": ["0", "100"]}, {"x": "a", "y": "b", "y_range": [0, True]},
    {"x": "a", "y": "b", "type": "pie"}])
def test_bad_ranges_and_types_are_refused_in_german(config):
    with pytest.raises(charts.ChartConfigError, match="Diagramm-Einstellung"):
        charts.chart_config(json.dumps(config))


def test_german_numbers():
    assert [charts._fmt(v) for v in (3.0, 42.8, 0.15, 51.507812)] == ["3", "42,8", "0,15",
                                                                       "51,51"]
