"""The server-drawn dot map (``maps.dot_map``), without a database: the
drawing fits the points' shape, the scale bar measures true distances, the
city's outline is read from GeoJSON."""
from __future__ import annotations

import json
import math
import re

from ckanext.vernetztestadt import maps

# two points 0.09° of latitude apart (10 km) and 0.135° of longitude (9.3 km at 51.5° N)
POINTS = [(51.50, 7.00, "Süd"), (51.59, 7.135, "Nord")]


def view_box(svg: str) -> tuple[float, float]:
    width, height = re.search(r'viewBox="0 0 ([0-9.]+) ([0-9.]+)"', svg).groups()
    return float(width), float(height)


def circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([0-9.]+)" cy="([0-9.]+)"',
                                                       svg)]


def test_the_drawing_keeps_the_shape_of_the_area():
    svg = str(maps.dot_map(POINTS, "Hotspots"))
    (x1, y1), (x2, y2) = circles(svg)
    km_x = 0.135 * math.cos(math.radians(51.545)) * maps.KM_PER_DEGREE
    km_y = 0.09 * maps.KM_PER_DEGREE
    assert abs((x2 - x1) / (y1 - y2) - km_x / km_y) < 0.01  # north is up, shape kept
    width, height = view_box(svg)
    assert width == maps.WIDTH and maps.MIN_HEIGHT <= height <= maps.MAX_HEIGHT + 20
    assert y2 >= maps.MARGIN - 0.1 and y1 <= height - maps.MARGIN  # inside, no empty band


def test_the_scale_bar_measures_kilometres():
    svg = str(maps.dot_map(POINTS, "Hotspots"))
    (_, y1), (_, y2) = circles(svg)
    units_per_km = (y1 - y2) / (0.09 * maps.KM_PER_DEGREE)
    start, end = re.search(r'<path d="M([0-9.]+) [0-9.]+V[0-9.]+H([0-9.]+)', svg).groups()
    label = re.search(r'class="vts-scale".*?>([0-9,]+) km</text>', svg).group(1)
    km = float(label.replace(",", "."))
    assert km in (1, 2, 5, 10)
    assert abs((float(end) - float(start)) / units_per_km - km) < 0.01 * km


def test_a_flat_extent_is_centred_in_the_minimum_height():
    svg = str(maps.dot_map([(51.5, 7.0, "a"), (51.5, 7.1, "b")], "Linie"))
    _, height = view_box(svg)
    (_, y), _ = circles(svg)
    assert height == maps.MIN_HEIGHT
    assert abs(y - (height - maps.SCALE_BAR) / 2) < 1


def test_the_outline_is_read_from_geojson(tmp_path, monkeypatch):
    ring = [[7.0, 51.48], [7.16, 51.48], [7.16, 51.64], [7.0, 51.64], [7.0, 51.48]]
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {},
         "geometry": {"type": "MultiPolygon", "coordinates": [[ring]]}}]}
    path = tmp_path / "stadtgebiet.geojson"
    path.write_text(json.dumps(collection), encoding="utf-8")
    from ckan.plugins import toolkit

    monkeypatch.setitem(toolkit.config, "ckanext.vernetztestadt.map_outline", str(path))
    rings = maps.city_outline()
    assert rings == [[(lon, lat) for lon, lat in ring]]
    svg = str(maps.dot_map(POINTS, "Hotspots", rings))
    assert svg.count('class="vts-outline"') == 1
    # the outline is part of the extent: the points sit inside it
    (_, y1), _ = circles(svg)
    _, height = view_box(svg)
    assert y1 < height - maps.MARGIN - maps.SCALE_BAR - 1  # 51.50° N lies north of 51.48°
    path.write_text("kein GeoJSON", encoding="utf-8")
    assert maps.city_outline() == []
