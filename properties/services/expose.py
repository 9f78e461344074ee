"""The exposé of a site: a printable A4 PDF rendered on the server, with no network at all.

The map is drawn from our own data as inline SVG: PostGIS clips, simplifies and projects
every geometry into the map's millimetre space (ST_Affine on EPSG:25832, the metric
storage SRID, so the scale bar is exact) and writes the path data (ST_AsSVG); the template
only places it. WeasyPrint gets a URL fetcher that serves data: URLs and our own static
files from disk and refuses everything else, and fonts come from the system (DejaVu).
"""

from __future__ import annotations

import logging
import math
import mimetypes
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import connection
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from geodata.models import Dataset, Layer, LayerFeature, Municipality

from ..models import Site
from ..nearest import NearestFeature, site_nearest
from ..presentation import (
    SITE_KIND_COLOURS,
    distance_rows,
    planning_explanations,
    site_contact,
    site_facts,
    site_last_verified,
)

logger = logging.getLogger(__name__)

EXPOSE_STYLESHEET = "css/expose.css"

# The map on the page, in millimetres (A4 minus the page margins).
MAP_WIDTH_MM = 180.0
MAP_HEIGHT_MM = 100.0
# Never zoom in further than this many metres across: the site needs surroundings.
MAP_MIN_WIDTH_M = 2_500.0
MAP_PADDING = 0.1  # of the content's extent, on every side

# The site plan (Lageplan): the site itself, close up; never narrower than this.
SITE_PLAN_HEIGHT_MM = 70.0
SITE_PLAN_MIN_WIDTH_M = 150.0
# The offer's cover: all its sites on one overview map.
OVERVIEW_HEIGHT_MM = 80.0

# Reference layers drawn on the exposé map for orientation (as on the detail page).
MAP_CONTEXT_LAYERS = ("rail_lines", "stations")


# --- network-free resources -----------------------------------------------------------


class LocalOnlyURLFetcher(URLFetcher):
    """Serves data: URLs and files inside our static directories; refuses anything else
    (http, https, ftp, other files), so rendering an exposé never touches the network."""

    def __init__(self, roots: list[Path] | None = None) -> None:
        super().__init__(allowed_protocols=("data", "file"), fail_on_errors=False)
        self.roots = [root.resolve() for root in (roots or static_roots())]

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            path = Path(URLFetcherResponse(url).path or "").resolve()
            if path.is_file() and any(path.is_relative_to(root) for root in self.roots):
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(
                    path.as_uri(), path.read_bytes(), {"Content-Type": content_type}
                )
            raise ValueError(f"the exposé may only use our static files, not {url}")
        raise ValueError(f"the exposé is rendered without network access: refused {url}")


def static_roots() -> list[Path]:
    """The directories our static files come from (and the collected copy)."""
    roots = [Path(settings.STATIC_ROOT)]
    for entry in settings.STATICFILES_DIRS:
        directory = entry[1] if isinstance(entry, tuple) else entry
        roots.append(Path(str(directory)))
    return roots


# --- the map --------------------------------------------------------------------------


@dataclass(frozen=True)
class MapFrame:
    """A rectangle in EPSG:25832 metres shown on a map of width_mm × height_mm."""

    xmin: float
    ymin: float
    xmax: float
    ymax: float
    width_mm: float = MAP_WIDTH_MM
    height_mm: float = MAP_HEIGHT_MM

    @property
    def mm_per_m(self) -> float:
        return self.width_mm / (self.xmax - self.xmin)

    @classmethod
    def around(
        cls,
        extent: tuple[float, float, float, float],
        *,
        width_mm: float = MAP_WIDTH_MM,
        height_mm: float = MAP_HEIGHT_MM,
        min_width_m: float = MAP_MIN_WIDTH_M,
    ) -> MapFrame:
        """The smallest frame of the map's proportions that holds the extent with padding."""
        xmin, ymin, xmax, ymax = extent
        width = max(xmax - xmin, 1.0) * (1 + 2 * MAP_PADDING)
        height = max(ymax - ymin, 1.0) * (1 + 2 * MAP_PADDING)
        width = max(width, height * width_mm / height_mm, min_width_m)
        height = width * height_mm / width_mm
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        return cls(
            cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2, width_mm, height_mm
        )


def _mapped(expression: str) -> str:
    """SQL: the geometry moved into the map's millimetre space, measured from the top left
    corner (ST_AsSVG negates y, which turns it into SVG's downward y)."""
    return f"ST_Affine({expression}, %(k)s, 0, 0, %(k)s, %(xoff)s, %(yoff)s)"


def _svg(expression: str) -> str:
    """SQL: SVG path data in millimetres. ST_AsSVG separates the parts of a collection with
    ";", which is no path syntax: a space joins them into one path."""
    return f"replace(ST_AsSVG({_mapped(expression)}, 0, 2), ';', ' ')"


def _clipped(expression: str, dimension: str) -> str:
    """SQL: the geometry cut to the frame and simplified to paper resolution. Cutting can
    leave a collection (a line touching the frame adds a point): ST_CollectionExtract keeps
    one dimension, so ST_AsSVG writes one valid path."""
    return (
        "ST_CollectionExtract(ST_SimplifyPreserveTopology("
        f"ST_Intersection({expression}, frame.clip), %(tolerance)s), {dimension})"
    )


_AREA_PATH = _svg(_clipped("m.geom", "3"))
_BOUNDARY_PATH = _svg(_clipped("ST_Boundary(m.geom)", "2"))
_RAIL_PATH = _svg("ST_Collect(" + _clipped("f.geom", "2") + ")")
_FEATURE_PATH = _svg(_clipped("f.geom", "ST_Dimension(f.geom) + 1"))
_CONNECTOR_PATH = _svg("ST_ShortestLine(site.geom, f.geom)")
_SITE_PATH = _svg("site.geom")
_ANCHOR = _mapped("ST_ClosestPoint(f.geom, site.geom)")

# One query for everything on the map; the SQL text is fixed, every value a bound parameter.
_MAP_SQL = f"""
WITH frame AS (
    SELECT ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 25832) AS env,
           ST_Expand(ST_MakeEnvelope(%(xmin)s, %(ymin)s, %(xmax)s, %(ymax)s, 25832),
                     %(margin)s) AS clip
), site AS (
    SELECT geom, location, municipality_id FROM properties_site WHERE id = %(site)s
)
SELECT 'area' AS kind, NULL::bigint AS ref, {_AREA_PATH} AS path, m.name,
       NULL::float AS x, NULL::float AS y, NULL::int AS category
FROM geodata_municipality m, frame, site
WHERE m.id = site.municipality_id
UNION ALL
SELECT 'boundary', m.id, {_BOUNDARY_PATH}, m.name,
       ST_X({_mapped("m.centre")}), -ST_Y({_mapped("m.centre")}),
       (m.id = site.municipality_id)::int
FROM geodata_municipality m, frame, site
WHERE m.geom && frame.clip
UNION ALL
SELECT 'rail', NULL, {_RAIL_PATH}, '', NULL, NULL, NULL
FROM geodata_layerfeature f, frame
WHERE f.layer_id = %(rail_layer)s AND f.geom && frame.clip
UNION ALL
SELECT 'station', f.id, NULL, f.name,
       ST_X({_mapped("f.geom")}), -ST_Y({_mapped("f.geom")}), f.category
FROM geodata_layerfeature f, frame
WHERE f.layer_id = %(station_layer)s AND f.geom && frame.env
UNION ALL
SELECT 'feature', f.id, CASE WHEN ST_Dimension(f.geom) > 0 THEN {_FEATURE_PATH} END, f.name,
       ST_X({_ANCHOR}), -ST_Y({_ANCHOR}), ST_Dimension(f.geom)
FROM geodata_layerfeature f, frame, site
WHERE f.id = ANY(%(features)s)
UNION ALL
SELECT 'connector', f.id, {_CONNECTOR_PATH}, '', NULL, NULL, NULL
FROM geodata_layerfeature f, site
WHERE f.id = ANY(%(features)s)
UNION ALL
SELECT 'site', NULL, {_SITE_PATH}, '',
       ST_X({_mapped("site.location")}), -ST_Y({_mapped("site.location")}),
       ST_Dimension(site.geom)
FROM site
"""


def _nice_length(target_m: float) -> float:
    """The largest of 1, 2, 5 × 10^n metres not above the target (for the scale bar)."""
    exponent = math.floor(math.log10(target_m))
    for step in (5, 2, 1):
        if step * 10**exponent <= target_m:
            return float(step * 10**exponent)
    return float(10**exponent)


def _round_scale(denominator: float) -> int:
    """1 : 183,412 reads as 1 : 180,000 (two significant digits)."""
    magnitude = 10 ** max(int(math.log10(denominator)) - 1, 0)
    return int(round(denominator / magnitude) * magnitude)


def _length_label(metres: float) -> str:
    if metres >= 1000:
        return f"{number_format(metres / 1000, 0 if metres % 1000 == 0 else 1)} km"
    return f"{number_format(metres, 0)} m"


def site_map_svg_data(
    site: Site, nearest: list[NearestFeature], frame: MapFrame, markers: dict[int, dict]
) -> dict:
    """Everything the exposé map draws, in the map's millimetre space (SVG y down)."""
    layer_ids = dict(Layer.objects.filter(slug__in=MAP_CONTEXT_LAYERS).values_list("slug", "pk"))
    k = frame.mm_per_m
    params = {
        "xmin": frame.xmin,
        "ymin": frame.ymin,
        "xmax": frame.xmax,
        "ymax": frame.ymax,
        "margin": 2 / k,  # draw 2 mm beyond the frame: no boundary lines along its edge
        "k": k,
        "xoff": -frame.xmin * k,
        # Against the top edge: ST_AsSVG negates y, so SVG y runs down from 0 to the height.
        "yoff": -frame.ymax * k,
        "tolerance": 0.15 / k,  # 0.15 mm on paper
        "site": site.pk,
        "rail_layer": layer_ids.get("rail_lines"),
        "station_layer": layer_ids.get("stations"),
        "features": [entry.feature_id for entry in nearest if entry.feature_id is not None],
    }
    with connection.cursor() as cursor:
        cursor.execute(_MAP_SQL, params)
        rows = cursor.fetchall()

    data: dict[str, Any] = {
        "width": frame.width_mm,
        "height": frame.height_mm,
        "area": "",
        "boundaries": [],
        "labels": [],
        "rail": "",
        "stations": [],
        "features": [],
        "connectors": [],
        "site": None,
    }
    label_margin = 12.0
    for kind, ref, path, name, x, y, category in rows:
        x, y = (round(x, 2), round(y, 2)) if x is not None else (x, y)
        if kind == "area":
            data["area"] = path or ""
        elif kind == "boundary":
            data["boundaries"].append({"path": path or "", "own": bool(category)})
            inside = (
                x is not None
                and label_margin < x < frame.width_mm - label_margin
                and 6 < y < frame.height_mm - 6
            )
            if inside:
                data["labels"].append({"name": name, "x": x, "y": y, "own": bool(category)})
        elif kind == "rail":
            data["rail"] = path or ""
        elif kind == "station":
            data["stations"].append({"x": x, "y": y, "major": (category or 9) <= 3})
        elif kind == "feature":
            marker = markers.get(ref, {})
            data["features"].append(
                {
                    "path": path or "",
                    "x": x,
                    "y": y,
                    "number": marker.get("number"),
                    "colour": marker.get("colour", "#333333"),
                }
            )
        elif kind == "connector":
            data["connectors"].append({"path": path or ""})
        elif kind == "site":
            data["site"] = {"path": path or "", "x": x, "y": y, "is_point": category == 0}

    _place_markers(data, frame)
    scale_m = _nice_length((frame.xmax - frame.xmin) * 0.2)
    scale_mm = round(scale_m * k, 2)
    data["scale"] = {
        "width": scale_mm,
        "half": round(scale_mm / 2, 2),
        "box": round(scale_mm + 4, 2),
        "y": round(frame.height_mm - 4, 2),
        "label": _length_label(scale_m),
    }
    data["north"] = {"x": round(frame.width_mm - 7, 2)}
    return data


MARKER_RADIUS_MM = 2.3
SITE_RING_MM = 4.4  # the ring around the site, with a little air


def _place_markers(data: dict, frame: MapFrame) -> None:
    """Numbered markers sit on the feature's point nearest the site unless that covers the
    site or another marker; then they move outwards (away from the site, fanning out) and a
    thin leader line points to the feature. Municipality names dodge the markers too."""
    site = data["site"]
    sx, sy = (site["x"], site["y"]) if site else (frame.width_mm / 2, frame.height_mm / 2)
    placed: list[tuple[float, float, float]] = [(sx, sy, SITE_RING_MM)]

    def free(x: float, y: float, radius: float) -> bool:
        inside = radius < x < frame.width_mm - radius and radius < y < frame.height_mm - radius
        return inside and all(
            math.hypot(x - px, y - py) > radius + pr + 0.4 for px, py, pr in placed
        )

    for feature in sorted(data["features"], key=lambda f: f["number"] or 0):
        ax, ay = feature["x"], feature["y"]
        dx, dy = ax - sx, ay - sy
        length = math.hypot(dx, dy)
        ux, uy = (dx / length, dy / length) if length > 0.01 else (0.7071, -0.7071)
        position = (ax, ay)
        for step in range(0, 16):
            found = False
            for angle in (0, 30, -30, 60, -60, 90, -90):
                rad = math.radians(angle)
                vx = ux * math.cos(rad) - uy * math.sin(rad)
                vy = ux * math.sin(rad) + uy * math.cos(rad)
                x, y = ax + vx * step * 1.6, ay + vy * step * 1.6
                if free(x, y, MARKER_RADIUS_MM):
                    position, found = (x, y), True
                    break
                if step == 0:
                    break  # on the point itself one try is enough
            if found:
                break
        feature["mx"], feature["my"] = round(position[0], 2), round(position[1], 2)
        feature["leader"] = math.hypot(position[0] - ax, position[1] - ay) > 0.5
        placed.append((position[0], position[1], MARKER_RADIUS_MM))

    labels = []
    for label in data["labels"]:
        # Roughly the label's extent as a circle: names are short, 2.6-3.2 mm high.
        radius = 0.9 * len(label["name"]) + 1.0
        for offset in (0.0, 5.0, -5.0):
            clear = all(
                abs(label["x"] - px) > radius + pr or abs(label["y"] + offset - 1 - py) > 2 + pr
                for px, py, pr in placed
            )
            if clear:
                labels.append({**label, "y": round(label["y"] + offset, 2)})
                break
        else:
            if label["own"]:
                labels.append(label)
    data["labels"] = labels


def _site_extent(site: Site, nearest: list[NearestFeature]) -> tuple[float, float, float, float]:
    """The site and the nearest feature of every layer (their points nearest the site)."""
    xmin, ymin, xmax, ymax = site.geom.extent
    for entry in nearest:
        if entry.anchor_xy is not None:
            x, y = entry.anchor_xy
            xmin, ymin, xmax, ymax = min(xmin, x), min(ymin, y), max(xmax, x), max(ymax, y)
    return xmin, ymin, xmax, ymax


def _datasets_shown(site: Site, nearest: list[NearestFeature]) -> list[Dataset]:
    """The sources of the boundaries and layer features the exposé shows."""
    feature_ids = [entry.feature_id for entry in nearest if entry.feature_id is not None]
    ids = set(
        Municipality.objects.exclude(dataset=None)
        .values_list("dataset_id", flat=True)
        .distinct()
        .order_by()
    )
    ids.update(
        LayerFeature.objects.filter(layer__slug__in=MAP_CONTEXT_LAYERS, dataset__isnull=False)
        .values_list("dataset_id", flat=True)
        .distinct()
        .order_by()
    )
    ids.update(
        LayerFeature.objects.filter(pk__in=feature_ids, dataset__isnull=False)
        .values_list("dataset_id", flat=True)
        .distinct()
        .order_by()
    )
    return list(Dataset.objects.filter(pk__in=ids).order_by("title"))


def site_plan_svg_data(site: Site) -> dict:
    """The site plan: the site's own outline framed close up (at least
    SITE_PLAN_MIN_WIDTH_M across), with the boundaries and railways around it, a scale bar
    and north arrow; no distance markers (the overview map has those)."""
    frame = MapFrame.around(
        site.geom.extent, height_mm=SITE_PLAN_HEIGHT_MM, min_width_m=SITE_PLAN_MIN_WIDTH_M
    )
    data = site_map_svg_data(site, [], frame, {})
    data["scale_note"] = _("Map scale about 1 : %(denominator)s") % {
        "denominator": number_format(_round_scale(1000 / frame.mm_per_m), 0, force_grouping=True)
    }
    return data


def sites_overview_svg_data(sites: list[Site]) -> dict | None:
    """One map of several sites (an offer's cover): the frame holds all of them, each is
    marked with its number in the list (1, 2, ...). None without sites."""
    if not sites:
        return None
    xs = [x for site in sites for x in (site.geom.extent[0], site.geom.extent[2])]
    ys = [y for site in sites for y in (site.geom.extent[1], site.geom.extent[3])]
    frame = MapFrame.around((min(xs), min(ys), max(xs), max(ys)), height_mm=OVERVIEW_HEIGHT_MM)
    # The map's background (boundaries, names, railways) is drawn around the first site;
    # every site then gets its numbered marker, placed in the map's millimetres here.
    data = site_map_svg_data(sites[0], [], frame, {})
    data["site"] = None
    k = frame.mm_per_m
    data["sites"] = [
        {
            "number": number,
            "x": round((site.location.x - frame.xmin) * k, 2),
            "y": round((frame.ymax - site.location.y) * k, 2),
        }
        for number, site in enumerate(sites, start=1)
    ]
    return data


# --- the document ---------------------------------------------------------------------


def site_expose_context(*, site: Site) -> dict:
    """The template context of the exposé, in the active language."""
    nearest = site_nearest(site)
    distances = distance_rows(nearest)
    markers = {
        row["feature_id"]: {"number": row["marker"], "colour": row["colour"]}
        for row in distances
        if row["feature_id"] is not None
    }
    frame = MapFrame.around(_site_extent(site, nearest))

    return {
        "site": site,
        "kind_colour": SITE_KIND_COLOURS.get(site.kind, "#546e7a"),
        "today": date_format(timezone.localdate(), "DATE_FORMAT"),
        # Contact and dates have their own block at the end of the exposé.
        "facts": [section for section in site_facts(site) if section["key"] != "record"],
        "first_added": date_format(site.created_at, "DATE_FORMAT"),
        "distances": distances,
        "explanations": planning_explanations(site),
        "contact": site_contact(site),
        "last_verified": site_last_verified(site),
        "map": site_map_svg_data(site, nearest, frame, markers),
        "site_plan": site_plan_svg_data(site),
        "context_layers": {
            layer.slug: layer.name for layer in Layer.objects.filter(slug__in=MAP_CONTEXT_LAYERS)
        },
        "datasets": _datasets_shown(site, nearest),
        "language": translation.get_language(),
        "scale_note": _("Map scale about 1 : %(denominator)s")
        % {
            "denominator": number_format(
                _round_scale(1000 / frame.mm_per_m), 0, force_grouping=True
            )
        },
    }


def site_expose_pdf(*, site: Site, language: str) -> bytes:
    """The exposé of one site as PDF bytes, in the given language ("de" or "en")."""
    started = time.perf_counter()
    fetcher = LocalOnlyURLFetcher()
    with translation.override(language):
        html = render_to_string("properties/expose.html", site_expose_context(site=site))
    stylesheet_path = finders.find(EXPOSE_STYLESHEET)
    if not stylesheet_path:
        raise FileNotFoundError(EXPOSE_STYLESHEET)
    pdf = HTML(
        string=html, base_url=Path(stylesheet_path).parent.as_uri() + "/", url_fetcher=fetcher
    ).write_pdf(stylesheets=[CSS(filename=str(stylesheet_path), url_fetcher=fetcher)])
    logger.info(
        "exposé of site %s (%s) rendered in %.2f s, %d bytes",
        site.pk,
        language,
        time.perf_counter() - started,
        len(pdf),
    )
    return pdf
