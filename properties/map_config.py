"""What the pages' Leaflet maps are configured with (passed to the ES modules through
`json_script`): the base map, the tile URL templates, the region's bounds, the boundary and
reference layers with their attributions, and the names drawn when there is no base map.

The search page uses all of it; the smaller maps (site detail, partner editor, inquiry
form, offer link) start from `small_map_config()`."""

from __future__ import annotations

from typing import Any

from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import Transform
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from geodata.models import Dataset, District, Municipality, Region
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


def small_map_config(**extra: Any) -> dict[str, Any]:
    """A map of the region for one task: no base map unless configured, the region and
    municipality boundaries for orientation, the credit line, the tile URL templates."""
    return {
        "basemap": basemap(),
        "tiles": tile_urls(),
        "bounds": region_bounds(),
        "attributionPrefix": format_html(
            '<a href="{}">{}</a>', reverse("attributions"), _("Data & licences")
        ),
        "boundaries": [
            entry
            for entry in boundary_entries()
            if entry["slug"] in ("region", "municipalities") and entry["featureCount"]
        ],
        **extra,
    }
