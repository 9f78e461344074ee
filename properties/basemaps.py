"""The base maps the pages' Leaflet maps can offer: the open official services of the
region, preconfigured, and the operator's own tile URL (SITEFINDER_BASEMAP_URL).

None is switched on unless configured (SITEFINDER_BASEMAPS): the map needs no internet by
default. Each entry carries its licence and attribution, shown in the map's credits and on
the data page. Services and terms (checked 2026-12):

- basemap.de Web Raster (BKG and the surveying authorities of the Länder), WMTS in web
  mercator, colour and grey; CC BY 4.0, "© basemap.de / BKG" with the year.
- TopPlusOpen (BKG), WMTS in web mercator; Data licence Germany – attribution – 2.0.
- NRW digital orthophotos (DOP, Geobasis NRW), WMS `nw_dop_rgb`; Data licence Germany –
  zero – 2.0 (no attribution required; given anyway).
- NRW ALKIS parcels (Flurstücke, Geobasis NRW), WMS `adv_alkis_flurstuecke`, an overlay
  drawn from zoom 15; Data licence Germany – zero – 2.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

DL_DE_BY = ("Datenlizenz Deutschland – Namensnennung – 2.0", "https://www.govdata.de/dl-de/by-2-0")
DL_DE_ZERO = ("Datenlizenz Deutschland – Zero – 2.0", "https://www.govdata.de/dl-de/zero-2-0")
CC_BY_4 = ("CC BY 4.0", "https://creativecommons.org/licenses/by/4.0/")

# The keys an operator may name in SITEFINDER_BASEMAPS; "none" is always offered.
NONE = "none"
# What the partner's site editor shows first when offered: the aerial image with parcels.
EDITOR_BASEMAPS = ["dop_nrw", "alkis_nrw"]
CUSTOM = "custom"


@dataclass(frozen=True)
class Basemap:
    key: str
    name: Promise | str
    kind: str  # "xyz" (tile URL template) or "wms"
    url: str
    attribution: str  # Leaflet shows it as HTML: {year} is replaced
    licence: tuple[str, str] | None
    overlay: bool = False
    min_zoom: int = 0
    max_native_zoom: int = 18
    wms_layers: str = ""
    options: dict[str, Any] = field(default_factory=dict)

    def attribution_html(self) -> str:
        text = self.attribution.replace("{year}", str(timezone.now().year))
        if self.licence:
            name, url = self.licence
            return format_html('{} (<a href="{}">{}</a>)', text, url, name)
        return text

    def origin(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"

    def as_config(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": str(self.name),
            "kind": self.kind,
            "url": self.url,
            "attribution": self.attribution_html(),
            "overlay": self.overlay,
            "minZoom": self.min_zoom,
            "maxNativeZoom": self.max_native_zoom,
            "wmsLayers": self.wms_layers,
        }


_BASEMAP_DE = "https://sgx.geodatenzentrum.de/wmts_basemapde/tile/1.0.0/{layer}/default/GLOBAL_WEBMERCATOR/{{z}}/{{y}}/{{x}}.png"
_TOPPLUS = "https://sgx.geodatenzentrum.de/wmts_topplus_open/tile/1.0.0/{layer}/default/WEBMERCATOR/{{z}}/{{y}}/{{x}}.png"
_BASEMAP_DE_CREDIT = '© <a href="https://basemap.de">basemap.de</a> / BKG ({year})'
_TOPPLUS_CREDIT = (
    '© <a href="https://www.bkg.bund.de">BKG</a> ({year}), Datenquellen: '
    '<a href="https://sgx.geodatenzentrum.de/web_public/Datenquellen_TopPlus_Open.pdf">TopPlusOpen</a>'
)
_NRW_CREDIT = '© <a href="https://www.bezreg-koeln.nrw.de/geobasis-nrw">Geobasis NRW</a>'

PRESETS: dict[str, Basemap] = {
    preset.key: preset
    for preset in (
        Basemap(
            "basemapde",
            _("Map (basemap.de, colour)"),
            "xyz",
            _BASEMAP_DE.format(layer="de_basemapde_web_raster_farbe"),
            _BASEMAP_DE_CREDIT,
            CC_BY_4,
        ),
        Basemap(
            "basemapde_grey",
            _("Map (basemap.de, grey)"),
            "xyz",
            _BASEMAP_DE.format(layer="de_basemapde_web_raster_grau"),
            _BASEMAP_DE_CREDIT,
            CC_BY_4,
        ),
        Basemap(
            "topplus",
            _("Topographic map (TopPlusOpen)"),
            "xyz",
            _TOPPLUS.format(layer="web"),
            _TOPPLUS_CREDIT,
            DL_DE_BY,
        ),
        Basemap(
            "topplus_grey",
            _("Topographic map, grey (TopPlusOpen)"),
            "xyz",
            _TOPPLUS.format(layer="web_grau"),
            _TOPPLUS_CREDIT,
            DL_DE_BY,
        ),
        Basemap(
            "dop_nrw",
            _("Aerial image (DOP NRW)"),
            "wms",
            "https://www.wms.nrw.de/geobasis/wms_nw_dop",
            _NRW_CREDIT,
            DL_DE_ZERO,
            max_native_zoom=19,
            wms_layers="nw_dop_rgb",
        ),
        Basemap(
            "alkis_nrw",
            _("Parcels (ALKIS NRW), from zoom 15"),
            "wms",
            "https://www.wms.nrw.de/geobasis/wms_nw_alkis",
            _NRW_CREDIT,
            DL_DE_ZERO,
            overlay=True,
            min_zoom=15,
            max_native_zoom=19,
            wms_layers="adv_alkis_flurstuecke",
        ),
    )
}


def configured() -> list[Basemap]:
    """The base maps and overlays this installation offers, in the configured order:
    SITEFINDER_BASEMAPS (keys of PRESETS) and the operator's own tile URL."""
    chosen = [PRESETS[key] for key in settings.BASEMAPS if key in PRESETS]
    if settings.BASEMAP_URL:
        chosen.append(
            Basemap(
                CUSTOM,
                _("Base map"),
                "xyz",
                settings.BASEMAP_URL,
                settings.BASEMAP_ATTRIBUTION,
                None,
                max_native_zoom=19,
            )
        )
    return chosen


def default_key(available: list[Basemap]) -> str:
    """The base map shown when a page opens: SITEFINDER_BASEMAP_DEFAULT if offered; else the
    operator's own tile URL (as before there was a choice); else none."""
    keys = {basemap.key for basemap in available if not basemap.overlay}
    if settings.BASEMAP_DEFAULT in keys:
        return settings.BASEMAP_DEFAULT
    if CUSTOM in keys and not settings.BASEMAP_DEFAULT:
        return CUSTOM
    return NONE


def basemap_config() -> dict[str, Any]:
    """What the maps' ES modules get: the layers, which one is on, and the words."""
    available = configured()
    return {
        "layers": [basemap.as_config() for basemap in available],
        "default": default_key(available),
        "noneName": str(_("No base map (offline)")),
        "noneNotice": str(_("No base map: boundaries and names only")),
    }


def origins() -> list[str]:
    """The hosts the browser fetches base-map images from (for the CSP's img-src)."""
    return sorted({basemap.origin() for basemap in configured()})


def attribution_rows() -> list[dict[str, str]]:
    """For the data page: every base map offered, its licence and credit."""
    return [
        {
            "name": str(basemap.name),
            "url": basemap.url,
            "attribution": basemap.attribution_html(),
            "licence": basemap.licence[0] if basemap.licence else "",
            "licence_url": basemap.licence[1] if basemap.licence else "",
        }
        for basemap in configured()
    ]
