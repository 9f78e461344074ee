"""The catalogues: complete, following the glossary, and no template text left unmarked.

A catalogue not yet in the tree (a translator's branch not merged) is skipped, named in
the skip reason; `make i18n-status` lists it as missing.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polib  # type: ignore[import-untyped]
import pytest
from django.conf import settings

from sitefinder.i18n_status import SOURCE_LANGUAGE, catalogue_path, catalogue_status
from tests.i18n.template_text import unmarked_template_words

GLOSSARY = Path(__file__).resolve().parents[2] / "docs" / "glossary.md"
TRANSLATED_LANGUAGES = [code for code, _name in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def catalogue_or_skip(language: str) -> polib.POFile:
    path = catalogue_path(language)
    if not path.exists():
        pytest.skip(f"no catalogue for {language} yet ({path.name} not in the tree)")
    return polib.pofile(str(path))


def glossary_rows() -> list[dict[str, str]]:
    """The tested table of docs/glossary.md: {"msgid": ..., "de": ..., ...} per row."""
    text = GLOSSARY.read_text()
    section = text.split("## How each language renders them", 1)[1]
    rows, header = [], None
    for line in section.splitlines():
        if not line.startswith("|"):
            if header:
                break
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif not set(cells[0]) <= {"-"}:
            rows.append(dict(zip(header, cells, strict=True)))
    return rows


def capitalised(text: str, language: str) -> str:
    first = {"i": "İ"}.get(text[0], text[0].upper()) if language == "tr" else text[0].upper()
    return first + text[1:]


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_catalogue_is_complete(language):
    catalogue_or_skip(language)
    status = catalogue_status(language)
    assert not status.error, status.error
    assert status.translated > 0
    assert (status.untranslated, status.fuzzy) == (0, 0), (
        f"{language}: {status.untranslated} untranslated, {status.fuzzy} fuzzy entries "
        "(make i18n-status)"
    )


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_catalogue_has_no_obsolete_fuzzy_or_empty_plural(language):
    catalogue = catalogue_or_skip(language)
    empty = [
        entry.msgid
        for entry in catalogue
        if entry.msgid_plural and not all(entry.msgstr_plural.values())
    ]
    assert empty == []


def test_the_glossary_table_is_read():
    rows = glossary_rows()
    assert len(rows) >= 15
    assert {"msgid", *TRANSLATED_LANGUAGES} <= set(rows[0])


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_key_terms_follow_the_glossary(language):
    catalogue = catalogue_or_skip(language)
    wrong = []
    for row in glossary_rows():
        entries = [entry for entry in catalogue if entry.msgid == row["msgid"]]
        assert entries, f"{row['msgid']!r} is not in the {language} catalogue"
        expected = row[language]
        for entry in entries:
            if expected not in entry.msgstr and capitalised(expected, language) not in entry.msgstr:
                wrong.append(f"{entry.msgid!r}: {entry.msgstr!r} lacks {expected!r}")
    assert wrong == [], f"{language}:\n" + "\n".join(wrong)


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_zoning_codes_paragraphs_and_placeholders_are_kept(language):
    """GI/GE/MI/SO, § citations and BauGB appear in the translation as in the source."""
    catalogue = catalogue_or_skip(language)
    citation = re.compile(r"§§? \d+(?:–\d+)? Bau(?:GB|NVO)|\b(?:GI|GE|MI|SO)\b(?= –)")
    wrong = [
        f"{entry.msgid!r}: {entry.msgstr!r}"
        for entry in catalogue
        if entry.msgstr
        and not set(citation.findall(entry.msgid)) <= set(citation.findall(entry.msgstr))
    ]
    assert wrong == [], "\n".join(wrong)


def test_no_template_text_is_left_unmarked():
    assert unmarked_template_words() == {}


def test_the_template_check_finds_unmarked_words():
    from tests.i18n.template_text import unmarked_words

    assert unmarked_words('<p title="Close">Hello {% translate "World" %}</p>') == [
        "Hello",
        "Close",
    ]
    assert unmarked_words("{% blocktranslate %}Fine{% endblocktranslate %} 12 m² – €") == []


SOURCE_DIRS = ("accounts", "geodata", "ops", "properties", "proposals", "search", "sitefinder")


@pytest.fixture(scope="module")
def source_msgids(tmp_path_factory) -> set[tuple[str, str]]:
    """(msgctxt, msgid) of every string marked in the source, extracted as the workflow
    does (makemessages), in a copy of the code so the real catalogues stay untouched."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path_factory.mktemp("source")
    for name in SOURCE_DIRS:
        shutil.copytree(
            root / name, copy / name, ignore=shutil.ignore_patterns("__pycache__", "migrations")
        )
    shutil.copytree(root / "templates", copy / "templates")
    shutil.copy(root / "manage.py", copy / "manage.py")
    (copy / "locale").mkdir()
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "--keep-pot", "--no-location"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "sitefinder.settings.test"},
    )
    pot = polib.pofile(str(copy / "locale" / "django.pot"))
    return {(entry.msgctxt or "", entry.msgid) for entry in pot}


@pytest.mark.parametrize("language", TRANSLATED_LANGUAGES)
def test_every_marked_string_is_in_the_catalogue(language, source_msgids):
    """A string added after a catalogue was made is missing from it (msgfmt's counts do
    not see it): the page would show it in English."""
    catalogue = catalogue_or_skip(language)
    present = {(entry.msgctxt or "", entry.msgid) for entry in catalogue if not entry.obsolete}
    missing = sorted(msgid for msgid in source_msgids - present)
    assert len(source_msgids) > 1000
    assert missing == [], f"{len(missing)} strings missing from {language}: {missing[:10]}"
