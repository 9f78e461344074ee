"""What the pages' Leaflet maps are configured with (passed to the ES modules through
`json_script`): the base map, the tile URL templates, the region's bounds, the boundary and
reference layers with their attributions, and the names drawn when there is no base map.

The search page uses all of it; the smaller maps (site detail, partner editor, inquiry
form, offer link) start from `small_map_config()`."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import Transform
from django.core.cache import cache
from django.db import connections, router
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from geodata.models import Dataset, DataVersion, District, Layer, Municipality, Region
from geodata.querysets import layers_with_datasets

from .basemaps import basemap_config
from .models import Site


def url_template(name: str, **placeholders: str | int) -> str:
    """A route as a Leaflet URL template: reversed with sentinel values that are then
    replaced by "{z}", "{x}", ... (the routes live in the apps' api/urls.py)."""
    url = reverse(name, kwargs=placeholders)
    for key, sentinel in placeholders.items():
        url = url.replace(str(sentinel), "{" + key + "}", 1)
    return url


def tile_urls() -> dict[str, str]:
    xyz = {"z": 7770001, "x": 7770002, "y": 7770003}
    return {
        "sites": url_template("tile-sites", **xyz),
        "boundaries": url_template("tile-boundaries", **xyz),
        "layers": url_template("tile-layer", slug="layerslugsentinel", **xyz),
    }


# Boundary levels in the one boundaries tile set, drawn below every other layer.
BOUNDARY_COLOURS = {"region": "#263238", "districts": "#455a64", "municipalities": "#78909c"}

# Layers switched on when the map opens: enough to find one's way without a base map.
DEFAULT_VISIBLE = {"region", "municipalities", "rail_lines"}


def region_bounds() -> list[list[float]] | None:
    """The region's extent as Leaflet bounds [[south, west], [north, east]] in EPSG:4326."""
    return bounds_of(Region.objects.all())


def basemap() -> dict[str, Any]:
    """The base maps offered (none unless configured: the map then needs no internet) and
    the words of the switcher and the credits control."""
    return {
        **basemap_config(),
        "failedNotice": _("The base map could not be loaded: boundaries and names only"),
        "switcherLabel": _("Base map and overlays"),
        "creditsLabel": _("Data sources and credits"),
    }


def bounds_of(queryset: Any) -> list[list[float]] | None:
    """The extent of a queryset's `geom` as Leaflet bounds, or None if it is empty."""
    extent = queryset.aggregate(extent=Extent(Transform("geom", 4326)))["extent"]
    if extent is None:
        return None
    west, south, east, north = extent
    return [[south, west], [north, east]]


def _boundary_datasets() -> list[Dataset]:
    ids: set[int] = set()
    for model in (Region, District, Municipality):
        ids.update(model.objects.exclude(dataset=None).values_list("dataset_id", flat=True))
    return list(Dataset.objects.filter(pk__in=ids))


def _attribution_html(datasets: list[Dataset]) -> str:
    """Leaflet's attribution control takes HTML: escape every text from the database."""
    parts, seen = [], set()
    for dataset in datasets:
        text = dataset.attribution or dataset.title
        if text in seen:
            continue
        seen.add(text)
        if dataset.attribution_url:
            parts.append(format_html('<a href="{}">{}</a>', dataset.attribution_url, text))
        else:
            parts.append(format_html("{}", text))
    return " | ".join(parts)


def boundary_entries() -> list[dict]:
    attribution = _attribution_html(_boundary_datasets())
    counts = {
        "region": Region.objects.count(),
        "districts": District.objects.count(),
        "municipalities": Municipality.objects.count(),
    }
    names = {
        "region": _("Region outline"),
        "districts": _("Districts and independent cities"),
        "municipalities": _("Municipalities"),
    }
    return [
        {
            "slug": slug,
            "name": names[slug],
            "colour": colour,
            "geometry": "boundary",
            "featureCount": counts[slug],
            "visible": slug in DEFAULT_VISIBLE and counts[slug] > 0,
            "attribution": attribution,
        }
        for slug, colour in BOUNDARY_COLOURS.items()
    ]


def layer_entries() -> list[dict]:
    return [
        {
            "slug": layer.slug,
            "name": layer.name,
            "colour": layer.colour,
            "geometry": layer.geometry,
            "featureCount": layer.feature_count,
            "visible": layer.slug in DEFAULT_VISIBLE and layer.feature_count > 0,
            "attribution": _attribution_html(layer.datasets),
        }
        for layer in layers_with_datasets()
    ]


def sites_attribution() -> str:
    if not Site.objects.published().demo().exists():
        return ""
    return format_html(
        '<a href="{}#demo-data">{}</a>',
        reverse("attributions"),
        _("Sites marked as demo data are generated, not real"),
    )


def municipality_labels() -> list[dict]:
    """Names at the municipalities' centres: orientation when there is no base map.
    "major" marks the independent cities, labelled from a lower zoom on."""
    labels = []
    municipalities = (
        Municipality.objects.exclude(centre=None)
        .select_related("district")
        .only("name", "ags", "population", "district__ags", "district__kind")
        .annotate(centre_4326=Transform("centre", 4326))
    )
    for municipality in municipalities:
        centre = municipality.centre_4326
        major = municipality.district.ags == municipality.ags[:5] and (
            municipality.district.kind.lower().startswith("kreisfreie")
        )
        labels.append({"name": municipality.name, "lat": centre.y, "lon": centre.x, "major": major})
    return labels


def place_rows() -> list[tuple[str, str, str, str, str]]:
    """(ags, name, district ags, district name, district kind) of every municipality, by
    district name and name: the search form's place choices."""
    return [
        (m.ags, m.name, m.district.ags, m.district.name, m.district.kind)
        for m in Municipality.objects.select_related("district")
        .only("ags", "name", "district__ags", "district__name", "district__kind")
        .order_by("district__name", "name")
    ]


# --- the reference data, cached per data version ----------------------------------------

# The data versions (geodata.DataVersion, bumped by statement triggers) the reference data
# is built from: boundaries (region, districts, municipalities), layers (their features)
# and sites (whether any published demo site exists).
REFERENCE_VERSIONS = ("boundaries", "layers", "sites")
# Entries outlive no day (sites hidden for staleness: time passing, no write) and no hour
# (as tiles: TILE_CACHE_SECONDS).
REFERENCE_CACHE_SECONDS = 3600


def reference_version() -> str:
    """One query: the data versions of REFERENCE_VERSIONS and a fingerprint of the layer and
    dataset tables (a few dozen rows without triggers: names, colours, attributions)."""
    using = router.db_for_read(DataVersion)
    sql = f"""
        SELECT
            (SELECT coalesce(string_agg(name || '=' || version, ',' ORDER BY name), '')
             FROM {DataVersion._meta.db_table} WHERE name = ANY(%s)),
            (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), ''))
             FROM {Layer._meta.db_table} t),
            (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), ''))
             FROM {Dataset._meta.db_table} t)
    """  # noqa: S608 (table names from the models)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [list(REFERENCE_VERSIONS)])
        row = cursor.fetchone()
    return hashlib.sha1("|".join(row).encode(), usedforsecurity=False).hexdigest()


def map_reference() -> dict[str, Any]:
    """What every map page shows of the reference data — boundary and layer entries, the
    region's bounds, municipality labels, the demo-sites credit, the place choices —
    built once per data version, language and day, and kept in the shared cache: a write
    to any of their tables changes the key, so the next page shows it."""
    key = "map-reference:{}:{}:{}".format(
        get_language() or "", timezone.localdate().isoformat(), reference_version()
    )
    reference = cache.get(key)
    if reference is None:
        reference = {
            "boundaries": boundary_entries(),
            "layers": layer_entries(),
            "bounds": region_bounds(),
            "municipalityLabels": municipality_labels(),
            "sitesAttribution": sites_attribution(),
            "places": place_rows(),
        }
        cache.set(key, reference, REFERENCE_CACHE_SECONDS)
    return reference


def small_map_config(reference: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A map of the region for one task: no base map unless configured, the region and
    municipality boundaries for orientation, the credit line, the tile URL templates.
    `reference`: map_reference(), when the caller has it already."""
    if reference is None:
        reference = map_reference()
    return {
        "basemap": basemap(),
        "tiles": tile_urls(),
        "bounds": reference["bounds"],
        "attributionPrefix": format_html(
            '<a href="{}">{}</a>', reverse("attributions"), _("Data & licences")
        ),
        "boundaries": [
            entry
            for entry in reference["boundaries"]
            if entry["slug"] in ("region", "municipalities") and entry["featureCount"]
        ],
        **extra,
    }
