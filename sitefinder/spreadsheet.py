"""Spreadsheet cells that cannot run: CSV and XLSX exports carry text that partners and
visitors wrote (titles, references, messages). Excel, LibreOffice and Google Sheets read a
cell starting with = + - @, a tab or a carriage return as a formula ("CSV injection",
e.g. ``=cmd|' /C calc'!A0``), so every text cell starting with one of them is prefixed
with an apostrophe, which spreadsheets show as plain text. Numbers are not text: a
negative number stays a number."""

from __future__ import annotations

from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: Any) -> Any:
    """The value for a spreadsheet cell: text starting like a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def safe_row(values: list[Any]) -> list[Any]:
    return [safe_text(value) for value in values]


def xlsx_text_cell(sheet: Any, value: Any) -> Any:
    """A write-only XLSX cell; text is always stored as a string (data type 's'), never a
    formula, whatever it starts with. Other values (numbers, dates) are left to openpyxl."""
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=safe_text(value))
    if isinstance(value, str):
        cell.data_type = "s"
    return cell
