"""The one place numbers, areas, distances, money and dates are written for a reader.

Every figure goes through `number()`, which uses the active language's separators (Django's
locale formats, corrected in sitefinder/formats/<locale>/ where the site writes otherwise):

    de, nl, tr   1.234,5 m²
    pl           1 234,5 m²   (a no-break space groups the thousands)
    en, zh-hans  1,234.5 m²

Units follow the figure after a no-break space, so "1.234 m²" never breaks between number
and unit. Money: whole euros with the sign where the language puts it (CURRENCY_PATTERNS).
The map's JavaScript (static/js/map/format.js) writes the same with Intl.NumberFormat for
the page's <html lang>.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format, number_format

NBSP = "\u00a0"
NBSP_M2 = NBSP + "m²"
NBSP_HA = NBSP + "ha"
NBSP_KM = NBSP + "km"
DASH = "–"

Number = float | int | Decimal

# Where the euro sign goes, per language (CLDR's patterns): {} is the number.
CURRENCY_PATTERNS: dict[str, str] = {
    "de": "{}" + NBSP + "€",
    "pl": "{}" + NBSP + "€",
    "tr": "€{}",
    "nl": "€" + NBSP + "{}",
    "en": "€{}",
    "zh-hans": "€{}",
}


def number(value: Number | None, digits: int = 0) -> str:
    """A number with `digits` decimals, grouped, in the active language ("1.234,5")."""
    if value is None:
        return DASH
    if digits == 0:
        value = round(value)
    return number_format(value, digits, use_l10n=True, force_grouping=True)


def area_m2(value: Number | None) -> str:
    """Square metres: "12.345 m²"."""
    return DASH if value is None else number(value) + NBSP_M2


def hectares(value_m2: float, digits: int = 1) -> str:
    """An area in hectares: "1,2 ha"."""
    return number(value_m2 / 10_000, digits) + NBSP_HA


def m2(value: float | None) -> str:
    """Square metres, and hectares from one hectare on: "25,000 m² (2.5 ha)"."""
    if value is None:
        return DASH
    text = area_m2(value)
    if value >= 10_000:
        text += f" ({hectares(value)})"
    return text


def area_short(value: float) -> str:
    """An area in few characters: hectares from one hectare on, without a trailing zero
    ("9.2 ha", "10 ha"), else square metres ("5,000 m²")."""
    if value >= 10_000:
        rounded = round(value / 10_000, 1)
        return hectares(value, 0 if rounded == int(rounded) else 1)
    return area_m2(value)


def km_number(metres: float | None) -> str:
    """Kilometres with one decimal, without the unit: "3.7" ("3,7" in German); below 50 m
    "< 0.1", so a site 15 m from a railway does not read as lying on it."""
    if metres is None:
        return ""
    if 0 < metres < 50:
        return "< " + number(0.1, 1)
    return number(metres / 1000, 1)


def km(metres: float | None) -> str:
    """A distance in kilometres with one decimal: "3.7 km" ("3,7 km" in German)."""
    return f"{km_number(metres)}{NBSP_KM}" if metres is not None else ""


def euros(value: Number | None, digits: int = 0) -> str:
    """A sum of money: "1.234.000 €" (de), "€1,234,000" (en), "€ 1.234.000" (nl)."""
    if value is None:
        return DASH
    pattern = CURRENCY_PATTERNS.get(translation.get_language() or "en", "{}" + NBSP + "€")
    return pattern.format(number(value, digits))


def per_unit(value: Number | None, unit: str, digits: int = 2) -> str:
    """A figure with its unit: "85,00 €/m²", "9.50 €/m²/month"."""
    return DASH if value is None else f"{number(value, digits)}{NBSP}{unit}"


def date(value: datetime.date | datetime.datetime | None) -> str:
    """A date as the active language writes it in prose ("6. Dezember 2026", "6 Dec 2026",
    "2026年12月6日")."""
    return "" if value is None else date_format(value, "DATE_FORMAT")


def unprefixed_path(path: str) -> str:
    """A page's path without its language prefix (/pl/sites/1/ -> /sites/1/): the
    language-neutral address (the API's links, hreflang's x-default), which LocaleMiddleware
    redirects to the visitor's language."""
    language = translation.get_language_from_path(path)
    if language is None:
        return path
    return path.removeprefix(f"/{language}") or "/"


def translate_path(url: str, language: str) -> str:
    """The same page in another language (/pl/sites/1/?x=1 -> /de/sites/1/?x=1).

    Django's translate_url() resolves the path in the *active* language, so a /pl/ path
    is not found while German is active and comes back unchanged; this reads the path's
    own language first. An unprefixed or unknown path is returned as it is."""
    from django.urls import translate_url

    with translation.override(translation.get_language_from_path(_path_of(url))):
        return translate_url(url, language)


def _path_of(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).path
