"""The words of the partner bulk upload: which column header means which site field, which
cell value means which code, and parsers for the ways German and English partners write
numbers, prices, dates, yes/no and contacts. Pure functions; no database.

Headers are compared after `normalise` (case, umlauts, spaces, hyphens, underscores and
punctuation do not matter), first as written, then without units ("Preis (€/m²)",
"Preis_EUR_m2", "Fläche in ha"), then, for headers of up to ten characters (the DBF limit
of Shapefiles), as a truncation of a known header ("VERFUEGBAR", "BEZEICHNG") when only one
field fits. Every Site field's name and its German and English verbose names are accepted;
every choice's code and German and English labels are accepted as values.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from django.utils import translation

# field -> kind of value. "price" and "contact" columns fill several fields (see below).
FIELDS: dict[str, str] = {
    "partner_ref": "text",
    "title": "text",
    "description": "text",
    "kind": "choice",
    "planning_category": "choice",
    "bplan_status": "choice",
    "restriction_class": "choice",
    "restriction_notes": "text",
    "ownership": "choice",
    "gross_area_m2": "number",
    "net_area_m2": "number",
    "is_divisible": "bool",
    "min_divisible_m2": "number",
    "max_divisible_m2": "number",
    "price_eur_m2": "price",
    "price_total_eur": "number",
    "rent_eur_m2_month": "number",
    "ground_rent_eur_m2_year": "number",
    "service_charges_eur_m2_month": "number",
    "commission_free": "bool",
    "price_on_request": "bool",
    "price_negotiable": "bool",
    "available_from": "date",
    "street": "text",
    "postcode": "text",
    "has_water": "bool",
    "has_sewer": "bool",
    "has_power": "bool",
    "has_gas_heat": "bool",
    "broadband": "choice",
    "has_rail_siding": "bool",
    "has_port_access": "bool",
    "contact_name": "contact",
    "contact_email": "email",
    "contact_phone": "text",
}
AREA_FIELDS = ("gross_area_m2", "net_area_m2", "min_divisible_m2", "max_divisible_m2")
REQUIRED = ("partner_ref", "title", "kind", "planning_category", "bplan_status", "ownership")

# Headers beyond each field's name and verbose names (German and English).
ALIASES: dict[str, tuple[str, ...]] = {
    "partner_ref": (
        "id",
        "site id",
        "partner id",
        "ref",
        "reference",
        "object id",
        "object no",
        "object number",
        "site no",
        "site number",
        "Flächen-ID",
        "Flächennummer",
        "Flächen-Nr",
        "Fläche Nr",
        "Objekt-Nr",
        "Objektnummer",
        "Objekt-ID",
        "Kennung",
        "Nr",
        "Nummer",
        "lfd Nr",
        "Kennziffer",
        "ID-Nr",
        "Standort-ID",
        "Gewerbeflächen-ID",
        "Grundstücks-Nr",
        "Ihre Flächen-ID",
        "your site id",
        "Objektkennung",
    ),
    "title": (
        "title",
        "name",
        "site name",
        "designation",
        "label",
        "Bezeichnung",
        "Titel",
        "Name der Fläche",
        "Flächenbezeichnung",
        "Objektbezeichnung",
        "Objekt",
        "Objektname",
        "Standortname",
        "Standort",
        "Standortbezeichnung",
        "Flächenname",
    ),
    "description": (
        "description",
        "remarks",
        "comment",
        "comments",
        "notes",
        "Beschreibung",
        "Bemerkung",
        "Bemerkungen",
        "Anmerkung",
        "Anmerkungen",
        "Exposétext",
        "Kurzbeschreibung",
        "Objektbeschreibung",
        "Hinweis",
        "Hinweise",
        "Info",
        "Informationen",
    ),
    "kind": (
        "kind",
        "type",
        "site type",
        "property type",
        "object type",
        "Art",
        "Typ",
        "Flächenart",
        "Objektart",
        "Immobilienart",
        "Angebotsart",
        "Flächentyp",
        "Objekttyp",
    ),
    "planning_category": (
        "planning category",
        "zoning",
        "land use",
        "zone",
        "use",
        "Nutzung",
        "Nutzungsart",
        "Gebietsart",
        "Baugebiet",
        "BauNVO",
        "Art der baulichen Nutzung",
        "Gebietstyp",
        "Gebietskategorie",
        "Kategorie",
        "Festsetzung",
        "Ausweisung",
        "Baugebietsart",
    ),
    "bplan_status": (
        "B-Plan",
        "B-Plan-Status",
        "Status B-Plan",
        "Bebauungsplan",
        "Bebauungsplan Status",
        "Planungsrecht",
        "Planrecht",
        "Baurecht",
        "planning status",
        "planning law",
        "zoning status",
        "Planungsstand",
        "Planstatus",
        "local plan",
        "development plan",
        "Rechtsstand",
        "Planungsrechtliche Situation",
        "BPlan",
    ),
    "restriction_class": (
        "restriction",
        "restrictions",
        "constraints",
        "Restriktionen",
        "Restriktionsklasse",
        "Einschränkungen",
        "Restriktion",
    ),
    "restriction_notes": (
        "restriction notes",
        "constraint notes",
        "Hinweise Restriktionen",
        "Restriktionshinweise",
        "Hinweise zu Restriktionen",
        "Einschränkungen Hinweise",
    ),
    "ownership": (
        "ownership",
        "owner",
        "owner type",
        "Eigentum",
        "Eigentümer",
        "Eigentumsverhältnisse",
        "Eigentumsverhältnis",
        "Eigentümerart",
        "Eigentümertyp",
        "Eigentumsart",
        "Besitzer",
    ),
    "gross_area_m2": (
        "gross area",
        "area",
        "size",
        "total area",
        "plot size",
        "site area",
        "Fläche",
        "Größe",
        "Bruttofläche",
        "Flächengröße",
        "Gesamtfläche",
        "Grundstücksgröße",
        "Grundstücksfläche",
        "Fläche gesamt",
        "Bruttobauland",
        "Areal",
        "qm",
        "m2",
        "Größe gesamt",
    ),
    "net_area_m2": (
        "net area",
        "usable area",
        "Nettofläche",
        "Nettobauland",
        "Nutzfläche",
        "freie Fläche",
    ),
    "is_divisible": ("divisible", "teilbar", "Teilbarkeit", "subdivisible"),
    "min_divisible_m2": (
        "smallest part",
        "min part",
        "minimum part",
        "min size",
        "kleinste Teilfläche",
        "Teilfläche min",
        "Mindestgröße",
        "min Teilfläche",
        "teilbar ab",
    ),
    "max_divisible_m2": (
        "largest part",
        "max part",
        "maximum part",
        "größte Teilfläche",
        "Teilfläche max",
        "max Teilfläche",
    ),
    "price_eur_m2": (
        "price",
        "price per m2",
        "price per sqm",
        "asking price",
        "land price",
        "Preis",
        "Kaufpreis",
        "Preis pro m2",
        "Preis je m2",
        "Preis je qm",
        "Grundstückspreis",
        "Bodenpreis",
        "Angebotspreis",
        "Verkaufspreis",
        "Quadratmeterpreis",
        "qm-Preis",
        "m2-Preis",
        "Kaufpreis pro m2",
        "eur",
        "euro",
        "Preis Euro",
    ),
    "price_total_eur": ("total price", "total price (€)", "Kaufpreis gesamt", "Gesamtpreis"),
    "rent_eur_m2_month": (
        "rent",
        "monthly rent",
        "rent per m2",
        "Miete",
        "Miete €/m²",
        "Miete (€/m²)",
        "Miete pro m2",
        "Kaltmiete",
        "Mietpreis",
    ),
    "ground_rent_eur_m2_year": (
        "ground rent",
        "leasehold rent",
        "Erbbauzins",
        "Erbbauzins (€/m²)",
        "Erbbauzins pro m2",
    ),
    "service_charges_eur_m2_month": (
        "service charges",
        "additional costs",
        "Nebenkosten",
        "Nebenkosten (€/m²)",
        "NK",
    ),
    "commission_free": ("commission-free", "no commission", "provisionsfrei", "Provisionsfrei"),
    "price_on_request": ("on request", "auf Anfrage", "Preis auf Anfrage", "Preis a A"),
    "price_negotiable": ("negotiable", "verhandelbar", "VB", "Verhandlungsbasis", "Preis VB"),
    "available_from": (
        "available",
        "availability",
        "available date",
        "date available",
        "verfügbar ab",
        "Verfügbarkeit",
        "verfügbar",
        "frei ab",
        "bezugsfrei ab",
        "bezugsfertig",
        "Verfügbarkeitsdatum",
        "ab wann verfügbar",
        "Verfügbar seit",
    ),
    "street": (
        "street",
        "address",
        "street and number",
        "Straße",
        "Adresse",
        "Anschrift",
        "Straße und Hausnummer",
        "Straße Hausnummer",
        "Lageadresse",
    ),
    "postcode": ("postcode", "postal code", "zip", "zip code", "PLZ", "Postleitzahl"),
    "has_water": ("water", "water supply", "Wasser", "Wasseranschluss", "Wasserversorgung"),
    "has_sewer": (
        "sewer",
        "sewerage",
        "wastewater",
        "Abwasser",
        "Kanal",
        "Kanalanschluss",
        "Entwässerung",
    ),
    "has_power": ("power", "electricity", "Strom", "Stromanschluss", "Elektrizität"),
    "has_gas_heat": (
        "gas",
        "heat",
        "gas heat",
        "district heating",
        "Gas/Wärme",
        "Fernwärme",
        "Gasanschluss",
        "Wärme",
    ),
    "broadband": (
        "broadband",
        "internet",
        "fibre",
        "Breitband",
        "Glasfaser",
        "Breitbandversorgung",
        "Breitbandanschluss",
    ),
    "has_rail_siding": (
        "rail siding",
        "rail",
        "rail connection",
        "siding",
        "Gleisanschluss",
        "Gleis",
        "Bahnanschluss",
        "Schienenanschluss",
    ),
    "has_port_access": (
        "port access",
        "port",
        "harbour",
        "Hafen",
        "Hafenanbindung",
        "Hafenanschluss",
        "Hafenzugang",
    ),
    "contact_name": (
        "contact",
        "contact person",
        "contact name",
        "Ansprechpartner",
        "Ansprechpartnerin",
        "Ansprechpartner/in",
        "Kontakt",
        "Kontaktperson",
        "Ansprechperson",
        "Zuständig",
        "Betreuer",
    ),
    "contact_email": (
        "email",
        "e-mail",
        "mail",
        "e-mail address",
        "Kontakt E-Mail",
        "E-Mail-Adresse",
        "Mailadresse",
        "E-Mail Ansprechpartner",
        "Kontakt Email",
    ),
    "contact_phone": (
        "phone",
        "telephone",
        "tel",
        "Telefon",
        "Telefonnummer",
        "Rufnummer",
        "Fon",
        "Kontakt Telefon",
    ),
}

# Geometry columns of tables (CSV, XLSX): WKT, or coordinates of a point.
GEOMETRY_HEADERS: dict[str, tuple[str, ...]] = {
    "wkt": (
        "wkt",
        "geometry",
        "geom",
        "the_geom",
        "Geometrie",
        "wkt_geom",
        "shape",
        "WKT-Geometrie",
    ),
    "lon": ("lon", "lng", "long", "longitude", "Längengrad", "Länge", "geogr Länge"),
    "lat": ("lat", "latitude", "Breitengrad", "Breite", "geogr Breite"),
    "x": ("x", "x coordinate", "x-Koordinate", "Koordinate x"),
    "y": ("y", "y coordinate", "y-Koordinate", "Koordinate y"),
    "easting": ("rechtswert", "easting", "ostwert", "utm east", "utm x"),
    "northing": ("hochwert", "northing", "nordwert", "utm north", "utm y"),
}
# Headers that are understood but not taken from the file, with the reason.
DERIVED_HEADERS: dict[str, tuple[str, ...]] = {
    "municipality": (
        "municipality",
        "Gemeinde",
        "Stadt",
        "Kommune",
        "Ort",
        "city",
        "town",
        "AGS",
        "Gemeindeschlüssel",
        "Stadtteil",
        "district",
        "Kreis",
    ),
    "status": ("status", "Status", "Angebotsstatus", "Veröffentlichung"),
}

# Extra spellings of choice values, beyond code and labels.
CHOICE_WORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        "plot": ("Grundstück", "Fläche", "Gewerbefläche", "Gewerbegrundstück", "land", "site"),
        "office": ("Büro", "Büros", "Bürofläche", "office building", "Bürogebäude"),
        "hall": ("Halle", "Produktion", "production", "Produktionshalle", "Gewerbehalle"),
        "logistics": ("Logistik", "Logistikfläche", "Lager", "warehouse", "Lagerhalle"),
        "mixed": ("Gemischt", "Büro/Halle", "Büro und Halle", "office and hall"),
    },
    "planning_category": {
        "GI": ("industrial", "Industriegebiet", "industrial area", "Industrie"),
        "GE": ("commercial", "Gewerbegebiet", "commercial area", "Gewerbe", "business park"),
        "MI": ("Mischgebiet", "mixed area", "mixed use area"),
        "SO": ("special", "Sondergebiet", "special area"),
    },
    "restriction_class": {
        "none": ("keine", "no", "nein", "ohne", "none known", "keine bekannt"),
        "light": ("leicht", "gering", "geringe", "minor", "low"),
        "severe": ("schwer", "erheblich", "erhebliche", "major", "high", "hoch", "stark"),
    },
    "broadband": {
        "none": ("keine", "kein", "no", "nein", "ohne"),
        "basic": ("Grundversorgung", "DSL", "ADSL", "basic"),
        "fast": ("schnell", "VDSL", "Kabel", "cable", "fast"),
        "gigabit": ("Glasfaser", "fibre", "fiber", "FTTH", "FTTB", "Gigabit"),
    },
    "bplan_status": {},
    "ownership": {},
}
TRUE_WORDS = {
    "ja",
    "j",
    "yes",
    "y",
    "x",
    "1",
    "true",
    "wahr",
    "vorhanden",
    "available",
    "ok",
    "✓",
    "✔",
    "t",
    "w",
    "vorh",
}
FALSE_WORDS = {
    "nein",
    "n",
    "no",
    "0",
    "false",
    "falsch",
    "nichtvorhanden",
    "keine",
    "kein",
    "none",
    "-",
    "f",
    "notavailable",
    "ohne",
}
NOW_WORDS = {
    "sofort",
    "absofort",
    "immediately",
    "now",
    "availablenow",
    "verfuegbar",
    "frei",
    "sofortverfuegbar",
    "available",
    "kurzfristig",
    "jetzt",
}
EMPTY_WORDS = {"", "-", "--", "ka", "na", "n/a", "keineangabe", "unbekannt", "unknown", "?", "tbd"}


def site_field(name: str) -> Any:
    """The Site model field `name`."""
    from properties.models import Site

    return Site._meta.get_field(name)


@lru_cache(maxsize=16_384)
def normalise(text: str) -> str:
    """Case-, space-, punctuation- and umlaut-insensitive key: "Größe (m²)" -> "groessem2"."""
    text = _fold(text)
    return re.sub(r"[^a-z0-9]", "", text)


def _fold(text: str) -> str:
    text = str(text).strip().lower().replace("§", " para ")
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


_BRACKETS = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
_UNIT_TOKENS = {
    "m2",
    "qm",
    "sqm",
    "m",
    "ha",
    "eur",
    "euro",
    "e",
    "in",
    "pro",
    "je",
    "per",
    "ca",
    "brutto",
    "netto",
    "gesamt",
    "total",
    "inkl",
    "incl",
    "ct",
    "mwst",
}
_HECTARE_TOKENS = {"ha", "hektar", "hectare", "hectares"}


@dataclass(frozen=True)
class HeaderReading:
    field: str | None  # Site field, geometry role or derived name; None: not understood
    role: str  # "field", "geometry", "derived", "ignored" (mapped to nothing) or ""
    factor: float = 1.0  # unit conversion to the field's unit (hectares -> m²)
    how: str = ""  # "exact", "unit", "truncated", "mapped"


def _header_keys(header: str) -> tuple[str, str, bool]:
    """(key as written, key without units, says hectares)."""
    folded = _fold(header)
    units = " ".join(_BRACKETS.findall(folded))
    without_brackets = _BRACKETS.sub(" ", folded)
    tokens = [t for t in re.split(r"[^a-z0-9]+", without_brackets) if t]
    kept = [t for t in tokens if t not in _UNIT_TOKENS and t not in _HECTARE_TOKENS]
    hectares = any(t in _HECTARE_TOKENS for t in tokens) or bool(
        set(re.split(r"[^a-z0-9]+", units)) & _HECTARE_TOKENS
    )
    return normalise(header), "".join(kept), hectares


@cache
def _header_index() -> dict[str, tuple[str, str]]:
    """normalised header -> (role, field). Built once per process (labels in both languages)."""

    index: dict[str, tuple[str, str]] = {}

    def add(alias: str, role: str, name: str) -> None:
        for key in {normalise(alias), _header_keys(alias)[1]}:
            if key:
                index.setdefault(key, (role, name))

    for name in FIELDS:
        add(name, "field", name)
        add(name.replace("_", " "), "field", name)
        for language in ("en", "de"):
            with translation.override(language):
                add(str(site_field(name).verbose_name), "field", name)
    for name, aliases in ALIASES.items():
        for alias in aliases:
            add(alias, "field", name)
    for role, aliases in GEOMETRY_HEADERS.items():
        for alias in aliases:
            add(alias, "geometry", role)
    for name, aliases in DERIVED_HEADERS.items():
        for alias in aliases:
            add(alias, "derived", name)
    return index


def read_header(header: str, mappings: dict[str, str] | None = None) -> HeaderReading:
    """What a column header means. `mappings`: the organisation's own, normalised header ->
    field ("" = ignore the column); they win over the built-in words."""
    written, without_units, hectares = _header_keys(str(header or ""))
    if not written and not without_units:
        return HeaderReading(None, "")
    if mappings and written in mappings:
        target = mappings[written]
        if not target:
            return HeaderReading(None, "ignored", how="mapped")
        return _reading(target, hectares, "mapped")
    index = _header_index()
    if written in index:
        role, name = index[written]
        return HeaderReading(name, role, _factor(name, hectares), "exact")
    if without_units and without_units in index:
        role, name = index[without_units]
        return HeaderReading(name, role, _factor(name, hectares), "unit")
    qualified = _without_qualifier(str(header or ""))
    if qualified and qualified in index:  # "Nutzungsart lt. B-Plan", "Fläche gem. Kataster"
        role, name = index[qualified]
        return HeaderReading(name, role, _factor(name, hectares), "unit")
    key = without_units or written
    if len(str(header).strip()) <= 10 and len(key) >= 4:
        candidates = {
            value
            for alias, value in index.items()
            if _truncates(key, alias) and value[0] != "derived"
        }
        if len(candidates) == 1:
            role, name = candidates.pop()
            return HeaderReading(name, role, _factor(name, hectares), "truncated")
    return HeaderReading(None, "")


_QUALIFIERS = {"lt", "laut", "gem", "gemaess", "nach", "according", "acc", "lauf"}


def _without_qualifier(header: str) -> str:
    """The header's key before a source qualifier ("lt. B-Plan", "gemäß Kataster", "nach
    FNP"): the words before it, without units; "" when there is no qualifier."""
    tokens = [t for t in re.split(r"[^a-z0-9]+", _BRACKETS.sub(" ", _fold(header))) if t]
    for position, token in enumerate(tokens):
        if token in _QUALIFIERS and position:
            kept = [t for t in tokens[:position] if t not in _UNIT_TOKENS | _HECTARE_TOKENS]
            return "".join(kept)
    return ""


def _reading(target: str, hectares: bool, how: str) -> HeaderReading:
    if target in FIELDS:
        return HeaderReading(target, "field", _factor(target, hectares), how)
    if target in GEOMETRY_HEADERS:
        return HeaderReading(target, "geometry", 1.0, how)
    return HeaderReading(None, "")


def _factor(name: str, hectares: bool) -> float:
    return 10_000.0 if hectares and name in AREA_FIELDS else 1.0


def _truncates(key: str, alias: str) -> bool:
    """A DBF-style truncation: a prefix of the alias ("verfuegbar" of "verfuegbarab"), or its
    first letters with letters left out ("bezeichng" of "bezeichnung")."""
    if len(alias) <= len(key):
        return False
    if alias.startswith(key):
        return True
    if len(key) < 5 or alias[:4] != key[:4]:
        return False
    position = 0
    for char in key:
        position = alias.find(char, position) + 1
        if position == 0:
            return False
    return True


# What a column that is not understood looks like it holds: never dropped silently.
_LOOKS_LIKE = (
    (
        "price",
        re.compile(
            r"preis|price|kosten|cost|miete|rent|richtwert|bodenricht|(^|[^a-z])(eur|euro|€)([^a-z]|$)"
        ),
    ),
    ("area", re.compile(r"flaeche|area|groesse|size|(^|[^a-z])(qm|m2|m²|ha|hektar)([^a-z]|$)")),
    ("date", re.compile(r"datum|date|termin|frist|(^|[^a-z])(ab|seit|since|jahr|year)([^a-z]|$)")),
    ("id", re.compile(r"(^|[^a-z])(id|nr|no|ref|key)([^a-z]|$)|nummer|number|kennung|kennz")),
)


def looks_like(header: str) -> str | None:
    """ "price", "area", "date" or "id" when the header's words say so, else None."""
    folded = _fold(header) + " " + str(header).lower()
    for kind, pattern in _LOOKS_LIKE:
        if pattern.search(folded):
            return kind
    return None


# -- values ----------------------------------------------------------------------------------


class ValueProblem(ValueError):
    pass


def _blank(value: object) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    return len(text) < 16 and normalise(text) in EMPTY_WORDS


def parse_text(value: object) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an id typed as a number in a spreadsheet: 17.0 -> "17"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


@cache
def _choice_index(field: str) -> dict[str, str]:
    """normalised spelling -> code, from the code, its labels in German and English and the
    extra words."""

    index: dict[str, str] = {}
    model_field = site_field(field)
    for code, _label in model_field.choices or ():
        index.setdefault(normalise(code), code)
        for language in ("en", "de"):
            with translation.override(language):
                label = str(dict(model_field.choices or ())[code])
            index.setdefault(normalise(label), code)
    for code, words in CHOICE_WORDS.get(field, {}).items():
        for word in words:
            index.setdefault(normalise(word), code)
    return index


def _bplan_status(text: str) -> str | None:
    raw = _fold(text)
    key = normalise(text)

    def section(number: int) -> bool:
        return bool(
            re.search(rf"(?<!\d){number}\s*(abs\.?\s*\d+\s*)?baugb", raw)
            or re.search(rf"(section|paragraph|para|sec)(\s*para)*\.?\s*{number}(?!\d)", raw)
        )

    if section(35) or re.search(r"aussenbereich|outerarea|outskirts|outsidebuilt", key):
        return "section_35"
    if re.search(r"(nicht|noch|not|notyet|nochnicht)(rechtskraeftig|inkraft|inforce|binding)", key):
        return "in_preparation"
    if section(33) or re.search(
        r"aufstellung|preparation|draft|entwurf|inplanung|offenlage|auslegung|imverfahren"
        r"|pending|underway|beschlossen(?!.*rechtskraeftig)|^geplant|(?<!un)planned",
        key,
    ):
        return "in_preparation"
    if section(34) or re.search(
        r"innenbereich|unbeplant|unplanned|keinbplan|ohnebplan|nobplan|nolocalplan|builtup"
        r"|innerarea|keinbebauungsplan|ohnebebauungsplan",
        key,
    ):
        return "section_34"
    if re.search(r"fnp|flaechennutzungsplan|landuseplan|preparatory", key):
        return "fnp_only"
    if section(30) or re.search(
        r"rechtskraeftig|rechtsverbindlich|inkraft|inforce|binding|qualifiziert|festgesetzt"
        r"|adopted|approved|bplanvorhanden|vorhanden|satzungsbeschluss|^ja$|^yes$|valid",
        key,
    ):
        return "binding"
    return None


_PUBLIC = r"kommunal|staedt|stadt|gemeinde|municipal|city|town|council|kommune|oeffentlich|public"
_PUBLIC_BODY = (
    r"^(bund|bima|landnrw|landes|land$|kreis|zweckverband|regionalverband|rvr|deutschebahn)"
)


def _ownership(text: str) -> str | None:
    key = normalise(text)
    public = re.search(_PUBLIC + r"|wirtschaftsfoerder", key)
    private = re.search(r"privat|investor|unternehmen|firma|company", key)
    if re.search(r"gemischt|mixed|teils|teilweise|partly|mix", key) or (public and private):
        return "mixed"
    if re.search(r"sonstig|other|andere", key) and (
        public or re.search(r"hand|body|koerperschaft", key)
    ):
        return "other_public"  # "sonstige öffentliche Hand", "other public body"
    if re.search(_PUBLIC_BODY, key):
        return "other_public"  # "Land NRW", "Bund", "BImA", "Kreis …"
    if public:
        return "municipal"  # "öffentlich" alone: the partners' public land is municipal
    if private:
        return "private"
    return None


def _kind(text: str) -> str | None:
    key = normalise(text)
    office = re.search(r"buero|office|verwaltung", key)
    hall = re.search(r"halle|hall|produktion|production|werkstatt|fertigung", key)
    if re.search(r"gemischt|mixed", key) or (office and hall):
        return "mixed"
    if re.search(r"logisti|lager|warehouse|distribution", key):
        return "logistics"
    if hall:
        return "hall"
    if office:
        return "office"
    if re.search(r"grundstueck|flaeche|land|plot|bauland|brache|site|areal", key):
        return "plot"
    return None


def _planning_category(text: str) -> str | None:
    folded = _fold(text)
    found: set[str] = set()
    codes = {"gi": "GI", "gie": "GI", "ge": "GE", "gee": "GE", "mi": "MI", "so": "SO"}
    for word in re.split(r"[^a-z]+", folded):
        if word in codes:
            found.add(codes[word])
    key = normalise(text)
    for code, pattern in (
        ("GI", r"industrie|industrial|industry"),
        ("GE", r"gewerbe|commercial|business"),
        ("MI", r"misch|mixed"),
        ("SO", r"sonder|special"),
    ):
        if re.search(pattern, key):
            found.add(code)
    return found.pop() if len(found) == 1 else None


def _broadband(text: str) -> str | None:
    key = normalise(text)
    match = re.search(r"(\d+)\s*(mbit|mbits|mb|gbit|gb)", key)
    if match:
        speed = int(match.group(1)) * (1000 if match.group(2).startswith("g") else 1)
        return "gigabit" if speed >= 1000 else "fast" if speed >= 100 else "basic"
    for code, pattern in (
        ("gigabit", r"glasfaser|fib(re|er)|ftt[hb]|gigabit"),
        ("fast", r"vdsl|kabel|cable|schnell|fast"),
        ("basic", r"dsl|grundversorgung|basic"),
        ("none", r"^(kein|keine|none|no|nein|ohne|nicht)"),
    ):
        if re.search(pattern, key):
            return code
    return None


def _restriction_class(text: str) -> str | None:
    key = normalise(text)
    for code, pattern in (
        ("severe", r"schwer|erheblich|severe|major|hoch|high|stark"),
        ("light", r"leicht|gering|light|minor|low"),
        ("none", r"^(kein|keine|none|no|nein|ohne)"),
    ):
        if re.search(pattern, key):
            return code
    return None


_RULES = {
    "bplan_status": _bplan_status,
    "ownership": _ownership,
    "kind": _kind,
    "planning_category": _planning_category,
    "broadband": _broadband,
    "restriction_class": _restriction_class,
}


def parse_choice(field: str, value: object, mappings: dict[str, str] | None = None) -> str | None:
    """The code for a cell; None for an empty cell. Raises ValueProblem if not understood.
    `mappings`: the organisation's own, normalised raw value -> code, tried first."""
    text = parse_text(value)
    if text is None or _blank(text):
        return None
    key = normalise(text)
    if mappings and key in mappings:
        return mappings[key]
    index = _choice_index(field)
    if key in index:
        return index[key]
    rule = _RULES.get(field)
    code = rule(text) if rule else None
    if code is None:
        raise ValueProblem(text)
    return code


def parse_number(value: object, *, german: bool = False) -> float | None:
    """12.5, "12,5", "1.234,5", "1,234.5", "12.500 m²", "€ 85"; with german=True a lone
    dot group such as "1.234" is read as thousands (1234). NaN and infinity are refused."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(str(value))
    if isinstance(value, int | float | Decimal):
        number = float(value)
    else:
        text = re.sub(
            r"[\s\u00a0€'’]|m²|m2|qm|sqm|eur(o)?|ca\.?|approx\.?|rd\.?",
            "",
            str(value).strip().lower(),
        )
        text = re.sub(r",-+$|\.-+$", "", text)  # "85,-"
        if "," in text and "." in text:
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif "," in text:
            text = (
                text.replace(",", "")
                if re.fullmatch(r"-?\d{1,3}(,\d{3}){2,}", text)
                else text.replace(",", ".")
            )
        elif german and re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text):
            text = text.replace(".", "")
        if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?", text):
            raise ValueProblem(str(value))
        try:
            number = float(Decimal(text))
        except InvalidOperation:
            raise ValueProblem(str(value)) from None
    if not math.isfinite(number):
        raise ValueProblem(str(value))
    return number


_CELL_HECTARES = re.compile(r"(?i)^(.*\d)\s*(ha|hektar|hectares?)\.?$")
_CELL_SQUARE_METRES = re.compile(r"(?i)(m²|m2|qm|sqm)\s*$")


def parse_area_unit(
    value: object, field: str, *, german: bool = False
) -> tuple[float | None, float | None]:
    """A number cell; for area fields also "3,4 ha" (-> 34000 m²) and "12.500 m²" in a
    hectare column: (number, the cell's own factor to m² or None if it names no unit)."""
    if field in AREA_FIELDS and isinstance(value, str):
        match = _CELL_HECTARES.match(value.strip())
        if match:
            return parse_number(match.group(1), german=german), 10_000.0
        if _CELL_SQUARE_METRES.search(value.strip()):
            return parse_number(value, german=german), 1.0
    return parse_number(value, german=german), None


_ON_REQUEST = re.compile(
    r"anfrage|request|^aa$|^poa$|nachvereinbarung|^nv$|aufanfr|verhandlungssache|aufnachfrage"
)
_NEGOTIABLE = re.compile(r"^vb|vb$|verhandlungsbasis|verhandelbar|negotiable|^vhb|ono$|obo$")


@dataclass(frozen=True)
class Price:
    eur_m2: float | None
    on_request: bool
    negotiable: bool


def parse_price(value: object, *, german: bool = False) -> Price | None:
    """A price cell: "12,50", "1.250,00 €", "45 EUR", "auf Anfrage" / "on request" (no price,
    on request), "VB" (Verhandlungsbasis: negotiable; without an amount also on request, as
    no price is given), "VB 45 €" (45, negotiable)."""
    if _blank(value):
        return None
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return Price(parse_number(value), False, False)
    # "?": a € sign lost to an 8-bit encoding (a Shapefile written as ISO-8859-1)
    text = str(value).strip().replace("?", " ")
    key = normalise(text)
    negotiable = bool(_NEGOTIABLE.search(key))
    on_request = bool(_ON_REQUEST.search(key))
    amount = re.sub(
        r"(?i)preis|price|auf\s*anfrage|on\s*request|a\.\s*a\.|vb|vhb|verhandlungsbasis|"
        r"verhandelbar|negotiable|ono|obo|ab|from|/\s*(m²|m2|qm)|pro|per|je|:",
        " ",
        text,
    ).strip(" ,;()")
    if not re.search(r"\d", amount):
        if negotiable or on_request:
            return Price(None, True, negotiable)
        raise ValueProblem(text)
    if re.search(r"\d\s*[-–]\s*\d", amount):
        raise ValueProblem(text)  # a range: one price is needed
    return Price(parse_number(amount, german=german), on_request, negotiable)


def parse_bool(value: object) -> bool | None:
    if _blank(value) and not (isinstance(value, str) and value.strip() == "-"):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ValueProblem(str(value))
    text = str(value).strip()
    key = normalise(text) or text
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    first = re.split(r"[\s,;(/:]+", _fold(text), maxsplit=1)[0]
    if first in TRUE_WORDS:
        return True
    if first in FALSE_WORDS:
        return False
    raise ValueProblem(text)


EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value: object) -> dt.date | None:
    """ISO dates, TT.MM.JJJJ (also "ab 01.03.2027"), MM/JJJJ, a year, "Q3 2027", Excel date
    cells and serial numbers; "sofort" / "ab sofort" / "immediately": None (available now)."""
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(float(value))
    text = str(value).strip()
    key = normalise(text)
    if key in NOW_WORDS or key.startswith(("absofort", "sofort", "immediate")):
        return None
    text = re.sub(r"(?i)^(ab|from|seit|since|frei ab|verfügbar ab|available from)\s*", "", text)
    for pattern in (
        "%d.%m.%Y",
        "%Y-%m-%d",
        "%d.%m.%y",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%d/%m/%Y",
        "%Y/%m/%d",
    ):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    match = re.fullmatch(r"(\d{1,2})[./](\d{4})", text)
    if match and 1 <= int(match.group(1)) <= 12:
        return dt.date(int(match.group(2)), int(match.group(1)), 1)
    match = re.fullmatch(r"(?i)(?:q\s*([1-4])|([1-4])\.\s*quartal)\s*[/.\-]?\s*(\d{4})", text)
    if match:
        quarter = int(match.group(1) or match.group(2))
        return dt.date(int(match.group(3)), 3 * quarter - 2, 1)
    if re.fullmatch(r"(19|20)\d{2}", text):
        return dt.date(int(text), 1, 1)
    if re.fullmatch(r"\d{5}(\.0+)?", text):
        return _excel_serial(float(text))
    raise ValueProblem(text)


def _excel_serial(number: float) -> dt.date:
    if 1900 <= number <= 2200 and number.is_integer():
        return dt.date(int(number), 1, 1)  # a year typed as a number
    if not 20_000 <= number <= 80_000:  # 1954 .. 2119
        raise ValueProblem(str(number))
    return EXCEL_EPOCH + dt.timedelta(days=int(number))


_EMAIL = re.compile(r"[A-Za-z0-9._%+\-']+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?:(?:tel|telefon|fon|phone)\.?:?\s*)?(\+?\d[\d\s/().\-]{5,}\d)", re.I)


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    phone: str


def parse_contact(value: object) -> Contact | None:
    """A contact cell: a name, an e-mail address, "Name <e-mail>", "Name, e-mail",
    "Name (Tel. 0201 123456)": split into name, e-mail and phone."""
    text = parse_text(value)
    if text is None:
        return None
    email_match = _EMAIL.search(text)
    email = email_match.group(0) if email_match else ""
    rest = text.replace(email, " ") if email else text
    rest = re.sub(r"(?i)mailto:|e-?mail:?|mail:", " ", rest)
    phone_match = _PHONE.search(rest)
    phone = phone_match.group(1).strip() if phone_match else ""
    if phone_match:
        rest = rest[: phone_match.start()] + " " + rest[phone_match.end() :]
    rest = re.sub(r"(?i)\b(tel|telefon|fon|phone)\.?:?", " ", rest)
    name = re.sub(r"\s+", " ", re.sub(r"[<>()\[\],;|]", " ", rest)).strip(" -/:")
    return Contact(name, email.lower() if email else "", phone)


def parse_email(value: object) -> str | None:
    """An e-mail column: the address in it (also out of "Name <e-mail>")."""
    text = parse_text(value)
    if text is None:
        return None
    match = _EMAIL.search(text)
    if not match:
        raise ValueProblem(text)
    return match.group(0).lower()
