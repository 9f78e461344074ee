"""The column mapping of the partner bulk upload: accepted German and English headers per
site attribute, accepted values per choice, and parsers for German and English spellings of
numbers, dates and yes/no. Pure functions; no database."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation

# canonical field -> (kind of value, accepted headers)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "partner_ref": (
        "text",
        (
            "id",
            "site_id",
            "partner_id",
            "partner_ref",
            "ref",
            "Flächen-ID",
            "Objekt-Nr",
            "Objektnummer",
            "Kennung",
            "Nr",
        ),
    ),
    "title": ("text", ("title", "name", "Bezeichnung", "Titel")),
    "description": ("text", ("description", "Beschreibung")),
    "kind": ("choice", ("kind", "Art", "Typ", "type", "Flächenart", "Objektart")),
    "planning_category": (
        "choice",
        (
            "planning_category",
            "planning category",
            "Gebietsart",
            "Baugebiet",
            "BauNVO",
            "Kategorie",
            "Nutzungsart",
        ),
    ),
    "bplan_status": (
        "choice",
        (
            "bplan_status",
            "B-Plan",
            "B-Plan-Status",
            "Planungsrecht",
            "planning status",
            "Planungsstand",
        ),
    ),
    "restriction_class": (
        "choice",
        (
            "restriction_class",
            "restrictions",
            "Restriktionen",
            "Restriktionsklasse",
            "Einschränkungen",
        ),
    ),
    "restriction_notes": (
        "text",
        (
            "restriction_notes",
            "restriction notes",
            "Hinweise Restriktionen",
            "Restriktionshinweise",
        ),
    ),
    "ownership": (
        "choice",
        ("ownership", "owner", "Eigentum", "Eigentümer", "Eigentumsverhältnisse"),
    ),
    "gross_area_m2": (
        "number",
        (
            "gross_area_m2",
            "area",
            "area_m2",
            "gross area",
            "gross area (m²)",
            "Fläche",
            "Fläche (m²)",
            "Bruttofläche",
            "Größe (m²)",
            "Größe",
            "Flächengröße",
        ),
    ),
    "net_area_m2": (
        "number",
        ("net_area_m2", "net area", "net area (m²)", "Nettofläche", "Nettobauland"),
    ),
    "is_divisible": ("bool", ("is_divisible", "divisible", "teilbar")),
    "min_divisible_m2": (
        "number",
        ("min_divisible_m2", "smallest part", "min part", "kleinste Teilfläche", "Teilfläche min"),
    ),
    "max_divisible_m2": (
        "number",
        ("max_divisible_m2", "largest part", "max part", "größte Teilfläche", "Teilfläche max"),
    ),
    "price_eur_m2": (
        "number",
        ("price_eur_m2", "price", "price (€/m²)", "€/m²", "Preis", "Preis (€/m²)", "Kaufpreis"),
    ),
    "offer_types": (
        "offers",
        (
            "offer_types",
            "offer type",
            "offer",
            "Angebotsart",
            "Vermarktungsart",
            "Angebot",
        ),
    ),
    "price_total_eur": (
        "number",
        ("price_total_eur", "total price", "total price (€)", "Kaufpreis gesamt", "Gesamtpreis"),
    ),
    "rent_eur_m2_month": (
        "number",
        (
            "rent_eur_m2_month",
            "rent",
            "rent (€/m²)",
            "monthly rent",
            "Miete",
            "Miete €/m²",
            "Miete (€/m²)",
            "Kaltmiete",
            "Mietpreis",
        ),
    ),
    "ground_rent_eur_m2_year": (
        "number",
        (
            "ground_rent_eur_m2_year",
            "ground rent",
            "leasehold rent",
            "Erbbauzins",
            "Erbbauzins (€/m²)",
            "Erbbauzins €/m² p.a.",
        ),
    ),
    "service_charges_eur_m2_month": (
        "number",
        (
            "service_charges_eur_m2_month",
            "service charges",
            "additional costs",
            "Nebenkosten",
            "Nebenkosten (€/m²)",
            "NK",
        ),
    ),
    "commission_free": (
        "bool",
        ("commission_free", "commission-free", "no commission", "provisionsfrei", "Provisionsfrei"),
    ),
    "price_on_request": (
        "bool",
        ("price_on_request", "price on request", "on request", "Preis auf Anfrage"),
    ),
    "price_negotiable": ("bool", ("price_negotiable", "negotiable", "verhandelbar", "VB")),
    "available_from": (
        "date",
        ("available_from", "available from", "available", "verfügbar ab", "Verfügbarkeit"),
    ),
    "street": ("text", ("street", "address", "Straße", "Adresse", "Straße und Hausnummer")),
    "postcode": ("text", ("postcode", "zip", "PLZ", "Postleitzahl")),
    "has_water": ("bool", ("has_water", "water", "Wasser")),
    "has_sewer": ("bool", ("has_sewer", "sewer", "Abwasser", "Kanal")),
    "has_power": ("bool", ("has_power", "power", "electricity", "Strom")),
    "has_gas_heat": ("bool", ("has_gas_heat", "gas", "gas / heat", "Gas/Wärme", "Fernwärme")),
    "broadband": ("choice", ("broadband", "Breitband", "Internet")),
    "has_rail_siding": ("bool", ("has_rail_siding", "rail siding", "Gleisanschluss")),
    "has_port_access": ("bool", ("has_port_access", "port access", "Hafenanbindung", "Hafen")),
    "contact_name": ("text", ("contact_name", "contact", "Ansprechpartner", "Kontakt")),
    "contact_email": ("text", ("contact_email", "email", "e-mail", "E-Mail")),
    "contact_phone": ("text", ("contact_phone", "phone", "Telefon")),
}
# Geometry columns of tables (CSV, XLSX): WKT, or coordinates of a point.
GEOMETRY_HEADERS: dict[str, tuple[str, ...]] = {
    "wkt": ("wkt", "geometry", "geom", "the_geom", "Geometrie"),
    "lon": ("lon", "lng", "longitude", "Längengrad", "Länge"),
    "lat": ("lat", "latitude", "Breitengrad", "Breite"),
    "x": ("x",),
    "y": ("y",),
    "easting": ("rechtswert", "easting", "ostwert"),
    "northing": ("hochwert", "northing", "nordwert"),
}
REQUIRED = ("partner_ref", "title", "kind", "planning_category", "bplan_status", "ownership")

# canonical value -> accepted spellings
CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    "kind": {
        "plot": ("plot", "Grundstück", "Fläche", "Gewerbefläche", "land"),
        "office": ("office", "Büro", "Büros", "Bürofläche"),
        "hall": ("hall", "Halle", "Produktion", "production"),
        "logistics": ("logistics", "Logistik", "Logistikfläche"),
        "mixed": ("mixed", "Gemischt", "Büro/Halle"),
    },
    "planning_category": {
        "GI": ("GI", "industrial", "Industriegebiet"),
        "GE": ("GE", "commercial", "Gewerbegebiet"),
        "MI": ("MI", "Mischgebiet"),
        "SO": ("SO", "special", "Sondergebiet"),
    },
    "bplan_status": {
        "binding": ("binding", "rechtskräftig", "B-Plan rechtskräftig"),
        "in_preparation": ("in_preparation", "in preparation", "in Aufstellung"),
        "fnp_only": ("fnp_only", "FNP", "FNP only", "nur FNP"),
        "section_34": ("section_34", "section 34", "§34", "§ 34", "§34 BauGB", "Innenbereich"),
    },
    "restriction_class": {
        "none": ("none", "keine"),
        "light": ("light", "leicht", "gering"),
        "severe": ("severe", "schwer", "erheblich"),
    },
    "ownership": {
        "municipal": ("municipal", "public", "öffentlich", "kommunal"),
        "other_public": ("other_public", "sonstige öffentliche Hand", "other public"),
        "private": ("private", "privat"),
        "mixed": ("mixed", "gemischt"),
    },
    "broadband": {
        "none": ("none", "keine", "kein"),
        "basic": ("basic", "Grundversorgung"),
        "fast": ("fast", "schnell"),
        "gigabit": ("gigabit", "Glasfaser", "fibre", "fiber", "FTTH"),
    },
}
# Money columns stored as decimals (the history keeps them as text, as site_save does).
DECIMAL_FIELDS = (
    "price_total_eur",
    "rent_eur_m2_month",
    "ground_rent_eur_m2_year",
    "service_charges_eur_m2_month",
)
# The offer types (a list in one cell: "Kauf, Erbbaurecht", "sale/rent").
OFFER_TYPES: dict[str, tuple[str, ...]] = {
    "sale": ("sale", "buy", "Kauf", "Verkauf", "kaufen"),
    "rent": ("rent", "let", "lease", "Miete", "Vermietung", "mieten", "Pacht"),
    "leasehold": ("leasehold", "Erbbaurecht", "Erbpacht", "ground lease"),
}
TRUE_WORDS = {"ja", "yes", "y", "j", "x", "1", "true", "wahr"}
FALSE_WORDS = {"nein", "no", "n", "0", "false", "falsch", "-"}


def normalise(text: str) -> str:
    """Case-, space-, punctuation- and umlaut-insensitive key: "Größe (m²)" -> "groessem"."""
    text = text.strip().lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9§]", "", text)


_HEADER_INDEX = {
    normalise(alias): field for field, (_, aliases) in FIELDS.items() for alias in aliases
}
_GEOMETRY_INDEX = {
    normalise(alias): role for role, aliases in GEOMETRY_HEADERS.items() for alias in aliases
}
_CHOICE_INDEX = {
    field: {
        normalise(spelling): value for value, spellings in values.items() for spelling in spellings
    }
    for field, values in CHOICES.items()
}


def map_headers(headers: list[str]) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """(canonical field -> header, geometry role -> header, ignored headers)."""
    fields: dict[str, str] = {}
    geometry: dict[str, str] = {}
    ignored: list[str] = []
    for header in headers:
        key = normalise(str(header or ""))
        if key in _HEADER_INDEX and _HEADER_INDEX[key] not in fields:
            fields[_HEADER_INDEX[key]] = header
        elif key in _GEOMETRY_INDEX and _GEOMETRY_INDEX[key] not in geometry:
            geometry[_GEOMETRY_INDEX[key]] = header
        elif header:
            ignored.append(str(header))
    return fields, geometry, ignored


def accepted_headers(field: str) -> str:
    return ", ".join(f'"{alias}"' for alias in FIELDS[field][1][:5])


def allowed_values(field: str) -> str:
    return ", ".join(
        f"{value} ({spellings[1]})" if len(spellings) > 1 else value
        for value, spellings in CHOICES[field].items()
    )


class ValueProblem(ValueError):
    pass


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_text(value: object) -> str | None:
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an id typed as a number in a spreadsheet: 17.0 -> "17"
    return str(value).strip()


def parse_choice(field: str, value: object) -> str | None:
    """The canonical value; an unknown spelling is returned as given, for SQL to reject."""
    text = parse_text(value)
    if text is None:
        return None
    return _CHOICE_INDEX[field].get(normalise(text), text)


_OFFER_INDEX = {
    normalise(spelling): value for value, spellings in OFFER_TYPES.items() for spelling in spellings
}


def parse_offer_types(value: object) -> list[str] | None:
    """ "Kauf, Erbbaurecht" -> ["sale", "leasehold"]; an unknown word is returned as given,
    for SQL to reject with the allowed values."""
    text = parse_text(value)
    if text is None:
        return None
    words = [w for w in re.split(r"[,;/|+&]|\s+(?:oder|und|or|and)\s+", text) if w.strip()]
    codes = [_OFFER_INDEX.get(normalise(word), word.strip()) for word in words]
    return list(dict.fromkeys(codes))


def allowed_offer_types() -> str:
    return ", ".join(f"{value} ({spellings[2]})" for value, spellings in OFFER_TYPES.items())


def parse_number(value: object, *, german: bool = False) -> float | None:
    """12.5, "12,5", "1.234,5", "1,234.5", "12.500 m²", "€ 85"; with german=True a lone
    dot group such as "1.234" is read as thousands (1234)."""
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise ValueProblem(str(value))
    if isinstance(value, int | float | Decimal):
        return float(value)
    text = re.sub(r"[\s\u00a0€]|m²|m2|qm|eur", "", str(value).strip().lower())
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
    try:
        return float(Decimal(text))
    except InvalidOperation:
        raise ValueProblem(str(value)) from None


def parse_bool(value: object) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    key = normalise(str(value)) or str(value).strip()
    if isinstance(value, int | float):
        key = "1" if value == 1 else "0" if value == 0 else str(value)
    if key in TRUE_WORDS:
        return True
    if key in FALSE_WORDS:
        return False
    raise ValueProblem(str(value))


def parse_date(value: object) -> dt.date | None:
    if _blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if normalise(text) in {"sofort", "now", "immediately", "absofort"}:
        return None
    for pattern in ("%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y", "%Y-%m-%dT%H:%M:%S"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueProblem(text)


PARSERS = {
    "text": parse_text,
    "bool": parse_bool,
    "date": parse_date,
    "offers": parse_offer_types,
}
