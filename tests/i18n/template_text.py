"""The words of the templates that are not marked for translation.

Every template is split by Django's own lexer; text outside {% translate %} /
{% blocktranslate %}, comments, <script>, <style> and {% verbatim %} is what a reader sees
as written. Tags are removed, but the attributes a reader meets (alt, title, aria-label,
placeholder, value of buttons) are kept. What remains may hold no word: only numbers,
punctuation, symbols, units and the names on the allow-list below.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from django.template.base import Lexer, TokenType

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"

# Not words to translate: the product's name, file formats, units, codes, language names
# (each shown in its own language) and the German planning codes.
ALLOWED = {
    "sitefinder",
    "API",
    "CSV",
    "XLSX",
    "GeoJSON",
    "PDF",
    "JSON",
    "OpenAPI",
    "Swagger",
    "UI",
    "m²",
    "ha",
    "km",
    "km²",
    "m",
    "€",
    "EPSG",
    "WGS",
    "UTM",
    "ETRS89",
    "OSM",
    "OpenStreetMap",
    "BauGB",
    "BauNVO",
    "GI",
    "GE",
    "MI",
    "SO",
    "FNP",
    "B-Plan",
    "E-Mail",
    "e-mail",
    "Leaflet",
    "Prometheus",
    "N",  # the north arrow of the exposé's map
    # Language codes and names, each written in its own language.
    "de",
    "en",
    "nl",
    "pl",
    "tr",
    "zh-hans",
    "Deutsch",
    "English",
    "Nederlands",
    "Polski",
    "Türkçe",
}
# Templates shown when the application itself has failed: static, German and English by
# design (no request, no language machinery), so they cannot fail in turn.
EXEMPT = {"500.html"}
# Blocks that hold CSS class names, not text.
CLASS_BLOCKS = {"body_class", "main_class"}
VISIBLE_ATTRIBUTES = re.compile(
    r"""\b(?:alt|title|aria-label|placeholder)\s*=\s*(["'])(.*?)\1""", re.S
)
HIDDEN_BLOCKS = re.compile(r"<(script|style)\b.*?</\1\s*>", re.S | re.I)
TAG = re.compile(r"<[^>]*>", re.S)
WORD = re.compile(r"[^\W\d_][\w’'-]*", re.U)
OPENING = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
    "verbatim": "endverbatim",
}


def visible_text(source: str) -> list[str]:
    """The template's literal text a reader sees, outside translation tags."""
    pieces: list[str] = []
    closing: str | None = None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            words = token.contents.split()
            name = words[0] if words else ""
            if closing is None and name in OPENING:
                closing = OPENING[name]
            elif closing is None and name == "block" and words[1:2] and words[1] in CLASS_BLOCKS:
                closing = "endblock"
            elif name == closing:
                closing = None
            # A tag stands for a value (a URL, a translation): a placeholder keeps the words
            # around it apart.
            pieces.append(" \x00 ")
        elif token.token_type == TokenType.VAR:
            pieces.append(" \x00 ")
        elif token.token_type == TokenType.TEXT and closing is None:
            pieces.append(token.contents)
    return ["".join(pieces)]


def unmarked_words(source: str, is_html: bool = True) -> list[str]:
    words: list[str] = []
    for text in visible_text(source):
        if is_html:
            text = HIDDEN_BLOCKS.sub(" ", text)
            attributes = " ".join(match[1] for match in VISIBLE_ATTRIBUTES.findall(text))
            text = TAG.sub(" ", text) + " " + attributes
        text = html.unescape(text)
        for word in WORD.findall(text):
            if word in ALLOWED or word.strip("-'’") in ALLOWED:
                continue
            words.append(word)
    return words


def unmarked_template_words() -> dict[str, list[str]]:
    found = {}
    for path in sorted(TEMPLATES.rglob("*")):
        if path.suffix not in (".html", ".txt") or not path.is_file():
            continue
        if str(path.relative_to(TEMPLATES)) in EXEMPT:
            continue
        words = unmarked_words(path.read_text(), is_html=path.suffix == ".html")
        if words:
            found[str(path.relative_to(TEMPLATES))] = words
    return found
