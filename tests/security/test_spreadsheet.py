"""Formula injection (issue 11): every spreadsheet writer neutralises formula prefixes."""

import csv
import io

import pytest

from properties.services.upload import UploadReport, UploadRow
from sitefinder.spreadsheet import safe_text


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_text_starting_like_a_formula_gets_an_apostrophe(prefix):
    assert safe_text(prefix + "1+1") == "'" + prefix + "1+1"


@pytest.mark.parametrize("value", [-3, -2.5, 0, 12, None, "plain", "a=b", "", "'=x"])
def test_numbers_and_harmless_text_stay(value):
    assert safe_text(value) == value


def test_upload_report_csv_neutralises_partner_text():
    report = UploadReport(filename="x.csv", format="csv")
    report.rows.append(UploadRow(row=2, partner_ref='=HYPERLINK("http://x")', action="create"))
    report.rows.append(UploadRow(row=-1, partner_ref="ok", action="create", messages=["@bad"]))
    report.notes.append("+col")
    rows = list(csv.reader(io.StringIO(report.as_csv()), delimiter=";"))
    assert rows[1][1] == '\'=HYPERLINK("http://x")'
    assert rows[2][0] == "-1"  # a number stays a number
    assert rows[2][3] == "'@bad"
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
