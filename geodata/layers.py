"""The reference layers sitefinder knows, and the site distance each one feeds.

The set is fixed in code because every layer with a proximity filter has a stored distance
column on the site (an indexed comparison instead of a nearest-neighbour query per
request). Layer rows in the database are created from this registry by a migration; their
features come from imports.
"""

from dataclasses import dataclass, field

from django.utils.translation import get_language, gettext, gettext_noop


def localised_name(name_de: str, name_en: str) -> str:
    """A layer's name in the active language: the German name in German; in every other
    language the English name through the catalogue (English is the catalogues' source, and
    the names below are marked for it), so a Polish page does not show "Bahnhöfe"."""
    if (get_language() or "de").startswith("de"):
        return name_de
    return gettext(name_en)


@dataclass(frozen=True)
class LayerSpec:
    slug: str
    name_de: str
    name_en: str
    geometry: str  # "point", "line" or "polygon": how the map draws it
    colour: str
    # Site columns holding the distance to this layer's nearest feature, with the feature
    # filter for each (e.g. stations of DB category 1-3 only).
    distance_fields: dict[str, dict[str, int]] = field(default_factory=dict)
    # OSM tags selecting this layer's features from an OSM extract (key -> allowed values),
    # and the GDAL OSM layer they come from.
    osm_layer: str = ""
    osm_tags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return localised_name(self.name_de, self.name_en)


LAYERS: tuple[LayerSpec, ...] = (
    LayerSpec(
        "stations",
        "Bahnhöfe",
        gettext_noop("Railway stations"),
        "point",
        "#c0392b",
        {"distance_to_station_m": {}, "distance_to_major_station_m": {"max_category": 3}},
        osm_layer="points",
        osm_tags={"railway": ("station", "halt")},
    ),
    LayerSpec(
        "rail_lines",
        "Bahnstrecken",
        gettext_noop("Railway lines"),
        "line",
        "#6c3483",
        {"distance_to_rail_line_m": {}},
        osm_layer="lines",
        osm_tags={"railway": ("rail",)},
    ),
    LayerSpec(
        "airports",
        "Flughäfen",
        gettext_noop("Airports"),
        "point",
        "#1f618d",
        {"distance_to_airport_m": {}},
        osm_layer="points",
        osm_tags={"aeroway": ("aerodrome",)},
    ),
    LayerSpec(
        "universities",
        "Hochschulen und Forschungsinstitute",
        gettext_noop("Universities and research institutes"),
        "point",
        "#b9770e",
        {"distance_to_university_m": {}},
        osm_layer="points",
        osm_tags={"amenity": ("university", "college"), "office": ("research",)},
    ),
    LayerSpec(
        "motorways",
        "Autobahnen",
        gettext_noop("Motorways"),
        "line",
        "#e67e22",
        {"distance_to_motorway_m": {}},
        osm_layer="lines",
        osm_tags={"highway": ("motorway",)},
    ),
    LayerSpec(
        "junctions",
        "Autobahnanschlussstellen",
        gettext_noop("Motorway junctions"),
        "point",
        "#d35400",
        {"distance_to_junction_m": {}},
        osm_layer="points",
        osm_tags={"highway": ("motorway_junction",)},
    ),
    LayerSpec(
        "waterways",
        "Wasserstraßen",
        gettext_noop("Waterways"),
        "line",
        "#2e86c1",
        {"distance_to_waterway_m": {}},
        osm_layer="lines",
        osm_tags={"waterway": ("canal", "river")},
    ),
    LayerSpec(
        "ports",
        "Häfen",
        gettext_noop("Ports"),
        "point",
        "#117a65",
        {"distance_to_port_m": {}},
        osm_layer="multipolygons",
        osm_tags={"landuse": ("port",), "industrial": ("port",), "harbour": ("yes",)},
    ),
)

LAYERS_BY_SLUG = {spec.slug: spec for spec in LAYERS}

# Every stored distance column on the site, in display order, with its layer.
DISTANCE_FIELDS: dict[str, tuple[LayerSpec, dict[str, int]]] = {
    field_name: (spec, feature_filter)
    for spec in LAYERS
    for field_name, feature_filter in spec.distance_fields.items()
}


def get_layer_spec(slug: str) -> LayerSpec:
    try:
        return LAYERS_BY_SLUG[slug]
    except KeyError:
        known = ", ".join(LAYERS_BY_SLUG)
        raise KeyError(f"unknown layer {slug!r}; known layers: {known}") from None
