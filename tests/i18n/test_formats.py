"""Numbers, areas, money and dates in each language's format (sitefinder.l10n)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from sitefinder import l10n

NBSP = "\u00a0"

# (language, 1234.5 with one decimal, 1234567 m², 2.5 million euros)
EXPECTED = [
    ("de", "1.234,5", f"1.234.567{NBSP}m²", f"2.500.000{NBSP}€"),
    ("nl", "1.234,5", f"1.234.567{NBSP}m²", f"€{NBSP}2.500.000"),
    ("tr", "1.234,5", f"1.234.567{NBSP}m²", "€2.500.000"),
    ("pl", f"1{NBSP}234,5", f"1{NBSP}234{NBSP}567{NBSP}m²", f"2{NBSP}500{NBSP}000{NBSP}€"),
    ("en", "1,234.5", f"1,234,567{NBSP}m²", "€2,500,000"),
    ("zh-hans", "1,234.5", f"1,234,567{NBSP}m²", "€2,500,000"),
]


@pytest.mark.parametrize(("language", "decimal", "area", "money"), EXPECTED)
def test_numbers_areas_and_money_per_language(language, decimal, area, money):
    with translation.override(language):
        assert l10n.number(1234.5, 1) == decimal
        assert l10n.number(Decimal("1234.5"), 1) == decimal
        assert l10n.area_m2(1234567) == area
        assert l10n.euros(2_500_000) == money
        assert l10n.per_unit(Decimal("85"), "€/m²").endswith(f"{NBSP}€/m²")
        assert l10n.km(3650) == f"{l10n.number(3.65, 1)}{NBSP}km"


def test_hectares_from_one_hectare_on():
    with translation.override("de"):
        assert l10n.m2(25_000) == f"25.000{NBSP}m² (2,5{NBSP}ha)"
        assert l10n.area_short(100_000) == f"10{NBSP}ha"
        assert l10n.area_short(5000) == f"5.000{NBSP}m²"
    with translation.override("pl"):
        assert l10n.area_short(92_000) == f"9,2{NBSP}ha"


def test_none_is_a_dash():
    assert l10n.number(None) == l10n.area_m2(None) == l10n.euros(None) == "–"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "6. Dezember 2026"),
        ("en", "6 Dec 2026"),
        ("nl", "6 december 2026"),
        ("pl", "6 grudnia 2026"),
        ("tr", "06 Aralık 2026"),
        ("zh-hans", "2026年12月6日"),
    ],
)
def test_dates_per_language(language, expected):
    with translation.override(language):
        assert l10n.date(datetime.date(2026, 12, 6)) == expected


@pytest.mark.parametrize(
    ("language", "delimiter", "decimal"),
    [
        ("de", ";", ","),
        ("nl", ";", ","),
        ("pl", ";", ","),
        ("tr", ";", ","),
        ("en", ",", "."),
        ("zh-hans", ",", "."),
    ],
)
def test_csv_exports_in_each_languages_spreadsheet_dialect(language, delimiter, decimal):
    from properties.services.export import csv_dialect_for

    dialect = csv_dialect_for(language)
    assert (dialect.delimiter, dialect.decimal) == (delimiter, decimal)
