"""HTML views of sites: the map page and the site detail page."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import AsGeoJSON, Transform
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts.models import User
from geodata.models import Dataset, District, Layer, Municipality, Region
from geodata.querysets import layers_with_datasets

from .models import Site
from .services.proximity import site_nearest_features


def _url_template(name: str, **placeholders: str | int) -> str:
    """A route as a Leaflet URL template: reversed with sentinel values that are then
    replaced by "{z}", "{x}", ... (the routes live in the apps' api/urls.py)."""
    url = reverse(name, kwargs=placeholders)
    for key, sentinel in placeholders.items():
        url = url.replace(str(sentinel), "{" + key + "}", 1)
    return url


def _tile_urls() -> dict[str, str]:
    xyz = {"z": 7770001, "x": 7770002, "y": 7770003}
    return {
        "sites": _url_template("tile-sites", **xyz),
        "boundaries": _url_template("tile-boundaries", **xyz),
        "layers": _url_template("tile-layer", slug="layerslugsentinel", **xyz),
    }


# Colours of the site kinds on the map and in the legend; distinct from the layer colours
# in geodata.layers and readable on a white background (contrast >= 3:1 for graphics).
SITE_KIND_COLOURS: dict[str, str] = {
    Site.Kind.PLOT: "#c2185b",
    Site.Kind.OFFICE: "#1565c0",
    Site.Kind.HALL: "#6d4c41",
    Site.Kind.LOGISTICS: "#558b2f",
    Site.Kind.MIXED: "#546e7a",
}

# Boundary levels in the one boundaries tile set, drawn below every other layer.
BOUNDARY_COLOURS = {"region": "#263238", "districts": "#455a64", "municipalities": "#78909c"}

# Layers switched on when the map opens: enough to find one's way without a base map.
DEFAULT_VISIBLE = {"region", "municipalities", "rail_lines"}
# Reference layers drawn around a site on its detail page.
SITE_MAP_LAYERS = ("rail_lines", "stations")


def map_view(request: HttpRequest) -> HttpResponse:
    """The map of the region with the published sites and the reference layers."""
    boundaries = _boundary_entries()
    layers = _layer_entries()
    config = {
        "tiles": _tile_urls(),
        "siteUrl": _url_template("site_detail", pk=7770004),
        "bounds": _region_bounds(),
        "basemap": _basemap(),
        "attributionPrefix": format_html(
            '<a href="{}">{}</a>', reverse("attributions"), _("Data & licences")
        ),
        "boundaries": boundaries,
        "layers": layers,
        "sitesAttribution": _sites_attribution(),
        "municipalityLabels": _municipality_labels(),
        "kinds": [
            {"value": kind.value, "label": str(kind.label), "colour": SITE_KIND_COLOURS[kind]}
            for kind in Site.Kind
        ],
        "messages": {
            "demo": _("Demo data"),
            "kind": _("Kind"),
            "status": _("Status"),
            "area": _("Area"),
            "price": _("Price"),
            "priceOnRequest": _("on request"),
            "priceUnknown": _("not stated"),
            "municipality": _("Municipality"),
            "details": _("Details"),
            "detailsOf": _("Details of %(title)s"),
            "reserved": _("Reserved"),
        },
    }
    context = {
        "config": config,
        "layer_groups": [
            {"title": _("Boundaries"), "entries": boundaries},
            {"title": _("Infrastructure"), "entries": layers},
        ],
        "kinds": config["kinds"],
    }
    return render(request, "properties/map.html", context)


def site_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The facts of one site, a small map and the distances to every reference layer."""
    user = request.user if isinstance(request.user, User) else None
    site = get_object_or_404(
        Site.objects.visible_to(user).select_related("municipality__district"), pk=pk
    )
    context = {
        "site": site,
        "kind_colour": SITE_KIND_COLOURS.get(site.kind, "#546e7a"),
        "facts": _site_facts(site),
        "distances": _distance_rows(site),
        "site_geometry": _geometry_feature(site),
        "map_config": {
            "basemap": _basemap(),
            "tiles": _tile_urls(),
            "attributionPrefix": format_html(
                '<a href="{}">{}</a>', reverse("attributions"), _("Data & licences")
            ),
            "boundaries": [
                entry
                for entry in _boundary_entries()
                if entry["slug"] in ("region", "municipalities") and entry["featureCount"]
            ],
            # Context around the site: the railway, with its stations.
            "layers": [
                entry
                for entry in _layer_entries()
                if entry["slug"] in SITE_MAP_LAYERS and entry["featureCount"]
            ],
            "siteColour": SITE_KIND_COLOURS.get(site.kind, "#546e7a"),
        },
    }
    return render(request, "properties/site_detail.html", context)


# --- map page configuration -----------------------------------------------------------


def _region_bounds() -> list[list[float]] | None:
    """The region's extent as Leaflet bounds [[south, west], [north, east]] in EPSG:4326."""
    extent = Region.objects.aggregate(extent=Extent(Transform("geom", 4326)))["extent"]
    if extent is None:
        return None
    west, south, east, north = extent
    return [[south, west], [north, east]]


def _basemap() -> dict[str, str] | None:
    """The configured raster base map, or None: the map then needs no internet at all."""
    if not settings.BASEMAP_URL:
        return None
    return {"url": settings.BASEMAP_URL, "attribution": settings.BASEMAP_ATTRIBUTION}


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


def _boundary_entries() -> list[dict]:
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


def _layer_entries() -> list[dict]:
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


def _sites_attribution() -> str:
    if not Site.objects.published().demo().exists():
        return ""
    return format_html(
        '<a href="{}#demo-data">{}</a>',
        reverse("attributions"),
        _("Sites marked as demo data are generated, not real"),
    )


def _municipality_labels() -> list[dict]:
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


# --- site detail ----------------------------------------------------------------------


def _geometry_feature(site: Site) -> dict:
    """The site as a GeoJSON feature in EPSG:4326 (transformed by PostGIS)."""
    geojson = (
        Site.objects.filter(pk=site.pk)
        .annotate(geojson=AsGeoJSON(Transform("geom", 4326), precision=7))
        .values_list("geojson", flat=True)
        .get()
    )
    return {"type": "Feature", "properties": {"title": site.title}, "geometry": json.loads(geojson)}


def _m2(value: float | None) -> str:
    """Square metres, and hectares from one hectare on: "25,000 m² (2.5 ha)"."""
    if value is None:
        return "–"
    text = f"{number_format(round(value), 0, force_grouping=True)} m²"
    if value >= 10_000:
        text += f" ({number_format(value / 10_000, 1, force_grouping=True)} ha)"
    return text


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _site_facts(site: Site) -> list[dict]:
    """The site's facts in sections of (label, value) rows, formatted for the active language."""
    if site.price_eur_m2 is not None:
        price = f"{number_format(site.price_eur_m2, 2, force_grouping=True)} €/m²"
        if site.price_on_request:
            price += " · " + _("on request")
        if site.price_negotiable:
            price += " · " + _("negotiable")
    elif site.price_on_request:
        price = _("on request")
    else:
        price = _("not stated")

    if site.is_divisible:
        if site.min_divisible_m2 or site.max_divisible_m2:
            divisible = _("yes, from %(min)s to %(max)s") % {
                "min": _m2(site.min_divisible_m2),
                "max": _m2(site.max_divisible_m2),
            }
        else:
            divisible = _("yes")
    else:
        divisible = _("no")

    restrictions = site.get_restriction_class_display()
    if site.restrictions:
        labels = dict(Site.Restriction.choices)
        restrictions += ": " + ", ".join(str(labels.get(r, r)) for r in site.restrictions)

    servicing = [
        str(label)
        for present, label in (
            (site.has_water, _("water")),
            (site.has_sewer, _("sewer")),
            (site.has_power, _("power")),
            (site.has_gas_heat, _("gas / district heat")),
        )
        if present
    ]

    contact = [part for part in (site.contact_name, site.contact_email, site.contact_phone) if part]

    return [
        {
            "title": _("Location"),
            "rows": [
                (_("Municipality"), site.municipality.name),
                (_("District"), site.municipality.district.name),
                (_("Address"), " ".join(p for p in (site.street, site.postcode) if p) or "–"),
            ],
        },
        {
            "title": _("Size"),
            "rows": [
                (_("Gross area"), _m2(site.gross_area_m2)),
                (_("Net area"), _m2(site.net_area_m2)),
                (_("Divisible"), divisible),
            ],
        },
        {
            "title": _("Planning"),
            "rows": [
                (_("Planning category"), site.get_planning_category_display()),
                (_("B-Plan status"), site.get_bplan_status_display()),
                (_("Restrictions"), restrictions),
                (_("Notes on restrictions"), site.restriction_notes or "–"),
                (_("Ownership"), site.get_ownership_display()),
            ],
        },
        {
            "title": _("Availability and price"),
            "rows": [
                (
                    _("Available from"),
                    date_format(site.available_from, "DATE_FORMAT")
                    if site.available_from
                    else pgettext("available", "immediately"),
                ),
                (_("Price"), price),
            ],
        },
        {
            "title": _("Infrastructure"),
            "rows": [
                (_("Servicing"), ", ".join(servicing) or _("none stated")),
                (_("Broadband"), site.get_broadband_display()),
                (_("Rail siding"), _yes_no(site.has_rail_siding)),
                (_("Port access"), _yes_no(site.has_port_access)),
            ],
        },
        {
            "title": _("Contact and record"),
            "rows": [
                (_("Contact"), " · ".join(contact) or "–"),
                (_("First added"), date_format(site.created_at, "DATE_FORMAT")),
                (
                    _("Last verified"),
                    date_format(site.last_verified_at, "DATE_FORMAT")
                    if site.last_verified_at
                    else _("not yet verified"),
                ),
            ],
        },
    ]


def _distance_rows(site: Site) -> list[dict]:
    """One row per stored distance: layer, nearest feature and distance in km, or a note
    that the layer has no data yet (never a misleading "far away")."""
    loaded = set(
        Layer.objects.filter(features__isnull=False).values_list("slug", flat=True).distinct()
    )
    rows = []
    for entry in site_nearest_features(site):
        layer = entry["layer"]
        name = layer.name if layer is not None else entry["field"]
        if entry["max_category"]:
            name = _("%(layer)s (category 1–%(max)s)") % {
                "layer": name,
                "max": entry["max_category"],
            }
        feature = entry["feature"]
        rows.append(
            {
                "layer": name,
                "colour": layer.colour if layer is not None else "",
                "loaded": layer is not None and layer.slug in loaded,
                "feature": (str(feature) if feature is not None else ""),
                "distance_km": (
                    number_format(entry["distance_m"] / 1000, 1, force_grouping=True)
                    if entry["distance_m"] is not None
                    else ""
                ),
            }
        )
    return rows
