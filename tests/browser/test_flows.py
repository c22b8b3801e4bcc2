"""What visitors do on the portal, in a real browser: from the home page
through search and a facet to the hotspot map, the broadband chart and a
validation report; and the language switch. Console errors and requests to
other hosts fail each test (``browse``)."""
from __future__ import annotations

from typing import Any

from .conftest import Portal

#: a y-axis tick label of a drawn chart: right-aligned just left of the plot
AXIS_TICKS = """(svg) => Array.from(svg.querySelectorAll('text[text-anchor="end"]'))
    .map(t => ({text: t.textContent, top: t.getBoundingClientRect().top}))"""


def axis_values(chart: Any) -> list[float]:
    """The y-axis labels of ``chart`` from the top of the screen down."""
    ticks = sorted(chart.evaluate(AXIS_TICKS), key=lambda tick: tick["top"])
    return [float(tick["text"].replace(".", "").replace(",", ".")) for tick in ticks]


def point_middle(chart: Any, tip: str) -> float:
    """The height of the middle of the point whose tooltip holds ``tip``."""
    point = chart.locator("circle", has=chart.page.locator("title", has_text=tip))
    box = point.bounding_box()
    assert box, tip
    return box["y"] + box["height"] / 2


def tick_middle(chart: Any, label: str) -> float:
    """The middle of the y-axis label ``label``: the height of its grid line."""
    ticks = chart.locator('text[text-anchor="end"]').all()
    box = next(tick.bounding_box() for tick in ticks if tick.text_content() == label)
    assert box, label
    return box["y"] + box["height"] / 2


def gigabit_shares_are_the_published_ones(page: Any, chart: Any) -> None:
    """Gelsenkirchen's real figures (Breitbandatlas, households with ≥ 1000
    Mbit/s: 6 % end of 2018, 81,18 % end of 2020) where the chart draws them,
    in its table, and the attribution the source requires on the page."""
    series = "alle Technologien ≥ 1000 Mbit/s"
    low = point_middle(chart, f"{series} 31.12.2018: Haushalte in % 6")
    high = point_middle(chart, f"{series} 31.12.2020: Haushalte in % 81,18")
    zero, hundred = tick_middle(chart, "0"), tick_middle(chart, "100")
    span = zero - hundred
    assert abs((zero - low) / span - 0.06) < 0.02 and abs((zero - high) / span - 0.8118) < 0.02
    page.locator(".vts-chart-table summary").first.click()
    table = page.locator(".vts-chart-table table").first
    assert table.is_visible()
    assert table.locator("thead th").all_inner_texts()[1:] == ["31.12.2018", "31.12.2020"]
    row = table.locator("tr", has=page.locator("th", has_text=series))
    assert row.locator("td").all_inner_texts() == ["6", "81,18"]
    # the attribution right under the chart it belongs to
    figure = page.locator("figure.vts-view-figure", has=chart)
    assert "Quelle: Breitbandatlas | Gigabit-Grundbuch" in figure.locator(
        ".vts-attribution").inner_text()


def test_a_visitor_finds_the_map_the_chart_and_a_report(demo_portal: Portal, browse,
                                                        screenshot) -> None:
    page, _ = browse(demo_portal.url)
    page.goto(demo_portal.url + "/")
    assert page.locator("h1, .vts-hero h2").first.inner_text().strip()
    screenshot(page, "visitor-1-home")
    page.fill("#vts-home-q", "WLAN")
    with page.expect_navigation():
        page.press("#vts-home-q", "Enter")
    assert "/dataset" in page.url and "q=WLAN" in page.url
    results = page.locator(".dataset-item")
    assert results.count() >= 2
    screenshot(page, "visitor-2-search")

    # a facet narrows the results to the harvested hotspot table
    facet = page.locator("nav[aria-label^='Filter'] a", has_text="GeoJSON")
    facet.first.click()  # htmx ("hx-boost") swaps the page and pushes the address
    page.wait_for_url("**res_format=GeoJSON**")
    page.wait_for_load_state("networkidle")
    assert page.locator(".dataset-item").count() == 1
    assert page.locator("nav[aria-label^='Filter'] a[aria-current=true]").count() == 1
    with page.expect_navigation():
        page.locator(".dataset-item .dataset-heading a").first.click()

    # the hotspot map: the server's drawing with every point, then the tiles
    dots = page.locator("svg.vts-dot-map circle")
    assert dots.count() >= 5  # the demo snapshot's hotspots
    page.wait_for_function("getComputedStyle(document.querySelector('.vts-leaflet'))"
                           ".visibility === 'visible'")
    assert page.locator(".vts-leaflet path.leaflet-interactive").count() == dots.count()
    assert page.locator(".leaflet-control-scale").count() == 1
    # the tiles stay inside the map's box: Leaflet's container clips them
    # only as a positioned element (a static one lets them cover the page)
    assert page.evaluate("""() => {
        const map = document.querySelector('.vts-leaflet');
        return getComputedStyle(map).overflow === 'hidden'
               && getComputedStyle(map).position !== 'static'
               && document.documentElement.scrollWidth <= window.innerWidth;}""")
    screenshot(page, "visitor-3-hotspot-map")

    # the broadband chart: shares from 0 at the bottom to 100 at the top
    page.goto(f"{demo_portal.url}/dataset/{demo_portal.charted['broadband_coverage']}")
    chart = page.locator("svg.vts-chart").first
    values = axis_values(chart)
    assert values[0] == 100 and values[-1] == 0 and values == sorted(values, reverse=True)
    box = chart.bounding_box()
    for item in page.locator(".vts-chart-legend li").all():
        legend = item.bounding_box()
        assert legend and box and legend["x"] + legend["width"] <= box["x"] + box["width"] + 1
    assert chart.locator("desc").text_content().strip()  # the text alternative
    gigabit_shares_are_the_published_ones(page, chart)
    screenshot(page, "visitor-4-broadband-chart")

    # a ranking edition: rank 1 at the top
    page.goto(f"{demo_portal.url}/dataset/{demo_portal.charted['smart_city_ranking']}")
    ranks = axis_values(page.locator("svg.vts-chart").first)
    assert ranks == sorted(ranks) and ranks[0] <= 1

    # the example upload's validation report, reached from its badge
    page.goto(f"{demo_portal.url}/dataset/wlan-hotspots-beispiel")
    with page.expect_navigation():
        page.locator(".resource-item a[href$='/validation']").first.click()
    assert page.locator("h1").first.inner_text().startswith("Prüfbericht")
    assert page.get_by_text("Gültig").first.is_visible()
    screenshot(page, "visitor-5-report")


def test_the_language_switch_keeps_the_page(demo_portal: Portal, browse, screenshot) -> None:
    page, _ = browse(demo_portal.url)
    dataset = demo_portal.datasets["wifi_hotspots"]
    page.goto(f"{demo_portal.url}/dataset/{dataset}")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("link", name="Datensätze").first.is_visible()
    with page.expect_navigation():
        page.select_option("#field-lang-select", label="English")
    assert page.url.endswith(f"/en/dataset/{dataset}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("link", name="Datasets").first.is_visible()
    screenshot(page, "language-en")
    with page.expect_navigation():
        page.select_option("#field-lang-select", label="Deutsch")
    assert page.url.endswith(f"/dataset/{dataset}") and "/en/" not in page.url


def test_the_metadata_links_open_in_the_browser(demo_portal: Portal, browse,
                                                screenshot) -> None:
    """Each "Metadaten (DCAT-AP.de)" link shows the metadata in the browser
    instead of starting a download (the RDF/XML one used to)."""
    page, _ = browse(demo_portal.url)
    downloads: list[Any] = []
    page.on("download", lambda download: downloads.append(download))
    dataset = f"{demo_portal.url}/dataset/{demo_portal.datasets['wifi_hotspots']}"
    for label, marker in (("Turtle", "dcat:Dataset"), ("RDF/XML", "dcat:Dataset"),
                          ("JSON-LD", "dcat:Dataset")):
        page.goto(dataset)
        with page.expect_navigation():
            page.locator(".vts-metadata-links li a", has_text=label).click()
        assert marker in page.locator("body").inner_text(), label
        screenshot(page, f"metadata-{label.replace('/', '-').lower()}")
    assert downloads == []
