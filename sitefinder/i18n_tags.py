"""Template tags of the six languages: the switcher's and hreflang's URL of the current page
in every language, and partner-written text in the reader's language.

Loaded as `{% load sitefinder_i18n %}` (TEMPLATES["OPTIONS"]["libraries"])."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from sitefinder import l10n

register = template.Library()


@register.simple_tag(takes_context=True)
def language_links(context: template.Context) -> list[dict[str, Any]]:
    """The current page in every language: code, own name, path and absolute URL."""
    request: HttpRequest | None = context.get("request")
    if request is None:
        return []
    current = translation.get_language()
    path = request.get_full_path()
    links = []
    for code, name in settings.LANGUAGES:
        url = l10n.translate_path(path, code)
        links.append(
            {
                "code": code,
                "name": name,
                "url": url,
                "absolute": request.build_absolute_uri(url),
                "current": code == current,
            }
        )
    return links


@register.simple_tag(takes_context=True)
def x_default_url(context: template.Context) -> str:
    request: HttpRequest | None = context.get("request")
    if request is None:
        return ""
    return request.build_absolute_uri(l10n.unprefixed_path(request.get_full_path()))


@register.filter
def area(value: float | None) -> str:
    """ "12,345 m²" in the active language's format."""
    return l10n.area_m2(value)


@register.filter
def number(value: float | None, digits: int = 0) -> str:
    return l10n.number(value, digits)


@register.simple_tag
def site_text(site: Any, field: str) -> Any:
    """A partner-written text of a site in the reader's language, or the German original
    marked as a fallback: `{% site_text site "title" as title %}` then
    `{% include "partials/translated.html" with text=title %}`."""
    return site.translated(field)
