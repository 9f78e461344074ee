"""The upload's vocabulary: headers and values as German and English partners write them."""

import datetime as dt

import pytest

from properties.services.upload import vocabulary as vocab


@pytest.mark.parametrize(
    ("header", "field", "factor"),
    [
        # names and verbose names in both languages
        ("price_eur_m2", "price_eur_m2", 1),
        ("Preis (€/m²)", "price_eur_m2", 1),
        ("price (€/m²)", "price_eur_m2", 1),
        ("Preis_EUR_m2", "price_eur_m2", 1),
        ("Kaufpreis in EUR/qm", "price_eur_m2", 1),
        ("PREIS_EUR", "price_eur_m2", 1),
        ("Preis auf Anfrage", "price_on_request", 1),
        ("Flächen-ID", "partner_ref", 1),
        ("FLAECHEN_ID", "partner_ref", 1),
        ("flaechen id", "partner_ref", 1),
        ("Ihre Flächen-ID", "partner_ref", 1),
        ("Bezeichnung", "title", 1),
        ("BEZEICHNG", "title", 1),
        ("BEZEICHNUN", "title", 1),
        ("Nutzung", "planning_category", 1),
        ("Gebietsart", "planning_category", 1),
        ("Verfügbar ab", "available_from", 1),
        ("VERFUEGBAR", "available_from", 1),
        ("verfuegbar_ab", "available_from", 1),
        ("Gleisanschluss", "has_rail_siding", 1),
        ("GLEISANSCH", "has_rail_siding", 1),
        ("Eigentum", "ownership", 1),
        ("Eigentümer", "ownership", 1),
        ("EIGENTUEM", "ownership", 1),
        ("Kontakt", "contact_name", 1),
        ("Ansprechpartner", "contact_name", 1),
        ("ANSPRECHPA", "contact_name", 1),
        ("KONTAKT_MA", "contact_email", 1),
        ("E-Mail", "contact_email", 1),
        ("Fläche (m²)", "gross_area_m2", 1),
        ("Fläche in ha", "gross_area_m2", 10_000),
        ("Größe [ha]", "gross_area_m2", 10_000),
        ("FLAECHE_HA", "gross_area_m2", 10_000),
        ("gross area (m²)", "gross_area_m2", 1),
        ("Bruttofläche (m²)", "gross_area_m2", 1),
        ("NETTOFLAEC", "net_area_m2", 1),
        ("TEILFL_MIN", "min_divisible_m2", 1),
        ("B-Plan-Status", "bplan_status", 1),
        ("PLANUNGSRE", "bplan_status", 1),
        ("price on request", "price_on_request", 1),
        ("contact e-mail", "contact_email", 1),
        ("Kontakt-E-Mail", "contact_email", 1),
        ("Breitband", "broadband", 1),
        ("Hafenanbindung", "has_port_access", 1),
        ("Straße und Hausnummer", "street", 1),
        ("PLZ", "postcode", 1),
    ],
)
def test_headers(header, field, factor):
    reading = vocab.read_header(header)
    assert (reading.field, reading.factor) == (field, factor), reading


@pytest.mark.parametrize("header", ["Farbe", "Bodenrichtwert (€/m²)", "Interne Nr.", "colour"])
def test_headers_not_understood(header):
    assert vocab.read_header(header).field is None


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        ("Bodenrichtwert (€/m²)", "price"),
        ("Miete", "price"),
        ("Hallenfläche", "area"),
        ("Stichtag Datum", "date"),
        ("Interne Nr.", "id"),
        ("Farbe", None),
    ],
)
def test_what_a_column_looks_like(header, kind):
    assert vocab.looks_like(header) == kind


def test_organisation_mapping_wins():
    assert vocab.read_header("Preis", {"preis": "description"}).field == "description"
    assert vocab.read_header("Preis", {"preis": ""}).role == "ignored"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("rechtskräftig", "binding"),
        ("Rechtskräftig (seit 2019)", "binding"),
        ("B-Plan rechtskräftig", "binding"),
        ("in force", "binding"),
        ("binding", "binding"),
        ("§ 30 BauGB", "binding"),
        ("qualifizierter B-Plan", "binding"),
        ("Binding B-Plan", "binding"),
        ("Rechtsverbindlicher Bebauungsplan", "binding"),
        ("in Aufstellung", "in_preparation"),
        ("B-Plan in Aufstellung", "in_preparation"),
        ("in preparation", "in_preparation"),
        ("draft", "in_preparation"),
        ("noch nicht rechtskräftig", "in_preparation"),
        ("kein B-Plan (§ 34 BauGB)", "section_34"),
        ("§34", "section_34"),
        ("§ 34", "section_34"),
        ("34 BauGB", "section_34"),
        ("unplanned inner area", "section_34"),
        ("Innenbereich", "section_34"),
        ("§ 35 BauGB", "section_35"),
        ("Außenbereich", "section_35"),
        ("Aussenbereich (§35)", "section_35"),
        ("nur FNP", "fnp_only"),
        ("Flächennutzungsplan", "fnp_only"),
        ("Bebauungsplan Nr. 345 rechtskräftig", "binding"),
    ],
)
def test_bplan_status(value, code):
    assert vocab.parse_choice("bplan_status", value) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("kommunal", "municipal"),
        ("städtisch", "municipal"),
        ("Municipal", "municipal"),
        ("Stadt Essen", "municipal"),
        ("öffentlich", "municipal"),
        ("sonstige öffentliche Hand", "other_public"),
        ("other public", "other_public"),
        ("Other public body", "other_public"),
        ("Land NRW", "other_public"),
        ("Bund (BImA)", "other_public"),
        ("privat", "private"),
        ("Private", "private"),
        ("Privateigentum", "private"),
        ("gemischt", "mixed"),
        ("mixed", "mixed"),
        ("teils städtisch, teils privat", "mixed"),
    ],
)
def test_ownership(value, code):
    assert vocab.parse_choice("ownership", value) == code


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("kind", "Gewerbegrundstück", "plot"),
        ("kind", "Bürogebäude", "office"),
        ("kind", "Lagerhalle", "logistics"),
        ("kind", "Produktionshalle", "hall"),
        ("kind", "Büro- und Hallenfläche", "mixed"),
        ("kind", "Hall / production", "hall"),
        ("planning_category", "GE - Gewerbegebiet", "GE"),
        ("planning_category", "Industriegebiet (GI)", "GI"),
        ("planning_category", "GI – Industriegebiet", "GI"),
        ("planning_category", "commercial area", "GE"),
        ("planning_category", "ge", "GE"),
        ("broadband", "Glasfaser (FTTH)", "gigabit"),
        ("broadband", "50 Mbit/s", "basic"),
        ("broadband", "250 Mbit/s", "fast"),
        ("restriction_class", "keine bekannt", "none"),
        ("restriction_class", "erhebliche", "severe"),
    ],
)
def test_other_choices(field, value, code):
    assert vocab.parse_choice(field, value) == code


@pytest.mark.parametrize(
    ("field", "value"),
    [("planning_category", "GE/GI"), ("ownership", "Kirche"), ("kind", "Wiese")],
)
def test_values_not_understood(field, value):
    with pytest.raises(vocab.ValueProblem):
        vocab.parse_choice(field, value)


def test_value_mapping_first():
    assert vocab.parse_choice("ownership", "Kirche", {"kirche": "private"}) == "private"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12,50", (12.5, False, False)),
        ("1.250,00 €", (1250.0, False, False)),
        ("45 EUR", (45.0, False, False)),
        ("€ 85,-", (85.0, False, False)),
        ("85 €/m²", (85.0, False, False)),
        (85, (85.0, False, False)),
        ("auf Anfrage", (None, True, False)),
        ("Preis auf Anfrage", (None, True, False)),
        ("on request", (None, True, False)),
        ("Price on request", (None, True, False)),
        ("a. A.", (None, True, False)),
        ("VB", (None, True, True)),
        ("VB 45 €", (45.0, False, True)),
        ("45,00 € VB", (45.0, False, True)),
        ("Verhandlungsbasis", (None, True, True)),
    ],
)
def test_prices(value, expected):
    price = vocab.parse_price(value, german=True)
    assert (price.eur_m2, price.on_request, price.negotiable) == expected


@pytest.mark.parametrize("value", ["40-60 €", "teuer", "nan", "inf"])
def test_prices_refused(value):
    with pytest.raises(vocab.ValueProblem):
        vocab.parse_price(value)


@pytest.mark.parametrize("value", ["", None, "-", "k.A.", "n/a"])
def test_empty_prices(value):
    assert vocab.parse_price(value) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ja", True),
        ("Nein", False),
        ("yes", True),
        ("no", False),
        ("x", True),
        ("X", True),
        ("1", True),
        ("0", False),
        (1, True),
        (0.0, False),
        ("wahr", True),
        ("falsch", False),
        ("true", True),
        ("vorhanden", True),
        ("nicht vorhanden", False),
        ("ja, Gleis 3", True),
        ("", None),
    ],
)
def test_booleans(value, expected):
    assert vocab.parse_bool(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sofort", None),
        ("ab sofort", None),
        ("Immediately", None),
        ("2027-03-01", dt.date(2027, 3, 1)),
        ("01.03.2027", dt.date(2027, 3, 1)),
        ("1.3.2027", dt.date(2027, 3, 1)),
        ("ab 01.03.2027", dt.date(2027, 3, 1)),
        ("03/2027", dt.date(2027, 3, 1)),
        ("Q3 2027", dt.date(2027, 7, 1)),
        ("2028", dt.date(2028, 1, 1)),
        (46447, dt.date(2027, 3, 1)),  # an Excel date serial
        ("46447", dt.date(2027, 3, 1)),
        (dt.datetime(2027, 3, 1, 0, 0), dt.date(2027, 3, 1)),
    ],
)
def test_dates(value, expected):
    assert vocab.parse_date(value) == expected


@pytest.mark.parametrize("value", ["bald", "31.02.2027", "13/2027", 5])
def test_dates_refused(value):
    with pytest.raises(vocab.ValueProblem):
        vocab.parse_date(value)


@pytest.mark.parametrize(
    ("value", "name", "email", "phone"),
    [
        ("Maria Muster", "Maria Muster", "", ""),
        ("m.muster@essen.de", "", "m.muster@essen.de", ""),
        ("Maria Muster <M.Muster@essen.de>", "Maria Muster", "m.muster@essen.de", ""),
        ("Maria Muster, m.muster@essen.de", "Maria Muster", "m.muster@essen.de", ""),
        (
            "Dr. Jan Ek (jan.ek@wf.de, Tel. 0201 123456)",
            "Dr. Jan Ek",
            "jan.ek@wf.de",
            "0201 123456",
        ),
    ],
)
def test_contacts(value, name, email, phone):
    contact = vocab.parse_contact(value)
    assert (contact.name, contact.email, contact.phone) == (name, email, phone)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1.234,5", 1234.5), ("1,234.5", 1234.5), ("12.500 m²", 12.5), ("3,5", 3.5), (7, 7.0)],
)
def test_numbers(value, expected):
    assert vocab.parse_number(value) == expected


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "zwölf", float("inf")])
def test_numbers_refused(value):
    with pytest.raises(vocab.ValueProblem):
        vocab.parse_number(value)
