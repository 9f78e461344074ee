"""Place search over our own data: municipalities (by name or main postcode), districts,
named reference features (stations, airports, universities, ports, junctions) and sites
(by title or number), plus an optional external geocoder (Photon or Nominatim) for
addresses when one is configured.

Names are matched without regard to case, accents or the spelling of umlauts ("Muelheim",
"Mulheim" and "mülheim" find Mülheim an der Ruhr): first those starting with the text, then
those containing it (served by the trigram indexes on the folded names, geodata 0006); a place is
answered with its label in the active language, where it lies, and the extent to show.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.contrib.gis.db.models import Extent
from django.contrib.gis.db.models.functions import Envelope, PointOnSurface, Transform
from django.core.cache import cache
from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.utils.translation import gettext as _

from accounts.models import User
from geodata.functions import Fold
from geodata.models import District, LayerFeature, Municipality, Region

from .models import Site

logger = logging.getLogger(__name__)

MIN_LENGTH = 2
MAX_LENGTH = 100
DEFAULT_LIMIT = 8
MAX_LIMIT = 20
# Named reference features worth finding, in the order they are listed.
FEATURE_LAYERS = ("stations", "airports", "universities", "ports", "junctions")
GEOCODER_CACHE_SECONDS = 24 * 60 * 60


@dataclass
class Place:
    kind: str  # municipality, district, postcode, station, airport, ..., site, address
    kind_label: str
    name: str
    where: str  # where it lies ("Essen", "Kreis Recklinghausen"), or ""
    lon: float
    lat: float
    bbox: list[float] | None  # [west, south, east, north] in EPSG:4326, or None
    url: str = ""  # a site's page


def _kind_labels() -> dict[str, str]:
    return {
        "municipality": _("Municipality"),
        "district": _("District"),
        "postcode": _("Postcode"),
        "stations": _("Railway station"),
        "airports": _("Airport"),
        "universities": _("University"),
        "ports": _("Port"),
        "junctions": _("Motorway junction"),
        "site": _("Site"),
        "address": _("Address"),
    }


def _ranked(queryset: QuerySet, field: str, text: str) -> QuerySet:
    """Rows whose `field` contains the text, those starting with it first; both folded
    (no case, accents or umlaut spellings: "muelheim" finds Mülheim, geodata 0006), which
    the trigram indexes on sitefinder_fold(field) serve."""
    typed = Fold(Value(text))
    return (
        queryset.annotate(folded=Fold(field))
        .filter(folded__contains=typed)
        .annotate(
            rank=Case(
                When(folded=typed, then=Value(0)),
                When(folded__startswith=typed, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", field)
    )


def _bbox(extent: Any) -> list[float] | None:
    return [round(value, 6) for value in extent] if extent else None


def _located(queryset: QuerySet) -> QuerySet:
    """With the point to put a marker on and the extent to show, in EPSG:4326."""
    return queryset.annotate(
        centre_4326=PointOnSurface(Transform("geom", 4326)),
        envelope_4326=Envelope(Transform("geom", 4326)),
    )


def _area_places(
    model: type[Municipality] | type[District], kind: str, text: str, limit: int
) -> list[Place]:
    labels = _kind_labels()
    queryset: QuerySet = model.objects.all()
    if model is Municipality:
        queryset = queryset.select_related("district")
    rows = _located(_ranked(queryset, "name", text)).defer("geom")[:limit]
    places = []
    for row in rows:
        extent = row.envelope_4326.extent
        context = ""
        if isinstance(row, Municipality):
            context = row.district.name if row.district.name != row.name else ""
        places.append(
            Place(
                kind,
                labels[kind],
                row.name,
                context,
                row.centre_4326.x,
                row.centre_4326.y,
                _bbox(extent),
            )
        )
    return places


def _postcode_places(text: str, limit: int) -> list[Place]:
    if not text.isdigit():
        return []
    labels = _kind_labels()
    rows = _located(Municipality.objects.filter(postcode__startswith=text)).defer("geom")
    rows = rows.order_by("postcode")[:limit]
    return [
        Place(
            "postcode",
            labels["postcode"],
            f"{row.postcode} {row.name}",
            "",
            row.centre_4326.x,
            row.centre_4326.y,
            _bbox(row.envelope_4326.extent),
        )
        for row in rows
    ]


def _feature_places(text: str, limit: int) -> list[Place]:
    labels = _kind_labels()
    where = Municipality.objects.filter(geom__intersects=OuterRef("geom")).values("name")[:1]
    rows = (
        _ranked(LayerFeature.objects.filter(layer__slug__in=FEATURE_LAYERS), "name", text)
        .select_related("layer")
        .annotate(
            centre_4326=PointOnSurface(Transform("geom", 4326)),
            municipality_name=Subquery(where),
        )
        .only("pk", "name", "layer__slug")[:limit]
    )
    return [
        Place(
            row.layer.slug,
            labels.get(row.layer.slug, row.layer.name),
            row.name,
            row.municipality_name or "",
            row.centre_4326.x,
            row.centre_4326.y,
            None,
        )
        for row in rows
    ]


def _site_places(text: str, user: User | None, limit: int) -> list[Place]:
    labels = _kind_labels()
    visible = Site.objects.visible_to(user)
    number = text.lstrip("#").strip()
    site_id = int(number) if number.isdigit() and len(number) <= 12 else None
    typed = Fold(Value(text))
    condition = Q(folded__contains=typed)
    if site_id is not None:
        condition |= Q(pk=site_id)
    rows = (
        _located(visible.annotate(folded=Fold("title")).filter(condition))
        .select_related("municipality")
        .annotate(
            rank=Case(
                When(pk=site_id or 0, then=0),
                When(folded__startswith=typed, then=1),
                default=2,
                output_field=IntegerField(),
            ),
        )
        .order_by("rank", "title")
        .only("pk", "title", "municipality__name")[:limit]
    )
    places = []
    for row in rows:
        extent = row.envelope_4326.extent
        places.append(
            Place(
                "site",
                labels["site"],
                f"{row.title} (#{row.pk})",
                row.municipality.name if row.municipality else "",
                row.centre_4326.x,
                row.centre_4326.y,
                _bbox(extent),
                url=f"/sites/{row.pk}/",
            )
        )
    return places


def _region_bbox() -> list[float] | None:
    return _bbox(Region.objects.aggregate(e=Extent(Transform("geom", 4326)))["e"])


def _geocoder_url(text: str, limit: int, language: str) -> str:
    bbox = _region_bbox()
    if settings.GEOCODER_KIND == "nominatim":
        params: dict[str, Any] = {"q": text, "format": "jsonv2", "limit": limit}
        params["accept-language"] = language
        if bbox:
            params["viewbox"] = ",".join(str(v) for v in bbox)
            params["bounded"] = 1
    else:  # photon
        params = {"q": text, "limit": limit, "lang": language if language in ("de", "en") else "de"}
        if bbox:
            params["bbox"] = ",".join(str(v) for v in bbox)
    separator = "&" if "?" in settings.GEOCODER_URL else "?"
    return settings.GEOCODER_URL + separator + urllib.parse.urlencode(params)


def _parse_geocoder(payload: Any) -> list[dict[str, Any]]:
    """(name, where, lon, lat, bbox) from a Photon GeoJSON or a Nominatim JSON answer."""
    found = []
    if isinstance(payload, dict):  # Photon
        for feature in payload.get("features") or []:
            props = feature.get("properties") or {}
            lon, lat = (feature.get("geometry") or {}).get("coordinates", [None, None])[:2]
            street = " ".join(str(props[k]) for k in ("street", "housenumber") if props.get(k))
            name = props.get("name") or street
            place = " ".join(str(props[k]) for k in ("postcode", "city") if props.get(k))
            extent = props.get("extent")  # [west, north, east, south]
            bbox = [extent[0], extent[3], extent[2], extent[1]] if extent else None
            found.append(
                {"name": name or place, "where": place, "lon": lon, "lat": lat, "bbox": bbox}
            )
    elif isinstance(payload, list):  # Nominatim
        for row in payload:
            box = row.get("boundingbox")  # [south, north, west, east] as strings
            bbox = [float(box[2]), float(box[0]), float(box[3]), float(box[1])] if box else None
            found.append(
                {
                    "name": row.get("display_name", ""),
                    "where": "",
                    "lon": float(row["lon"]),
                    "lat": float(row["lat"]),
                    "bbox": bbox,
                }
            )
    return found


def _geocoder_places(text: str, limit: int, language: str) -> list[Place]:
    """Addresses from the configured geocoder; nothing (never an error) if it fails."""
    if not settings.GEOCODER_URL or limit <= 0:
        return []
    url = _geocoder_url(text, limit, language)
    key = "places:geocoder:" + url
    found = cache.get(key)
    if found is None:
        if not url.startswith(("http://", "https://")):
            logger.warning("place search: the geocoder URL is not http(s)")
            return []
        request = urllib.request.Request(url, headers={"User-Agent": "sitefinder place search"})  # noqa: S310 (http(s) only, checked above)
        try:
            with urllib.request.urlopen(request, timeout=settings.GEOCODER_TIMEOUT_S) as response:  # noqa: S310
                found = _parse_geocoder(json.load(response))
        except (OSError, ValueError, KeyError, TypeError, IndexError) as error:
            logger.warning("place search: geocoder failed: %s", error)
            return []
        cache.set(key, found, GEOCODER_CACHE_SECONDS)
    label = _kind_labels()["address"]
    return [
        Place("address", label, row["name"], row["where"], row["lon"], row["lat"], row["bbox"])
        for row in found[:limit]
        if isinstance(row.get("lon"), int | float) and isinstance(row.get("lat"), int | float)
    ]


def places_search(
    text: str, *, user: User | None, limit: int = DEFAULT_LIMIT, language: str = "de"
) -> list[dict[str, Any]]:
    """Up to `limit` places for the text, our own data first, then the geocoder's."""
    text = " ".join(text.split())[:MAX_LENGTH]
    if len(text) < MIN_LENGTH and not text.isdigit():
        return []
    places: list[Place] = []
    for find in (
        lambda room: _postcode_places(text, room),
        lambda room: _area_places(Municipality, "municipality", text, room),
        lambda room: _area_places(District, "district", text, room),
        lambda room: _feature_places(text, room),
        lambda room: _site_places(text, user, room),
    ):
        room = limit - len(places)
        if room <= 0:
            break
        places.extend(find(room))
    if len(places) < limit and len(text) >= 3:
        places.extend(_geocoder_places(text, limit - len(places), language))
    return [asdict(place) for place in places]
