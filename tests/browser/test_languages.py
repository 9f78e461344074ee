"""Every kind of page in every language, on a phone: it renders in that language (<html
lang>), nothing scrolls sideways at 390 px (long German and Polish words, Chinese lines),
axe-core finds no serious violation, and the main content has no English left over where
the language's catalogue has a translation.

One test per language walks all page types in one browser context: one database flush per
language, not per page."""

from __future__ import annotations

import re
from functools import cache

import polib  # type: ignore[import-untyped]
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from sitefinder.i18n_status import catalogue_path
from tests.browser.conftest import PHONE, VIEWPORT, BrowserPage
from tests.browser.test_accessibility import (
    PAGES,
    axe_violations,
    describe,
    sites,  # noqa: F401 (fixture)
    use_language,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# The page types, in an order that logs in only once (saved searches) and ends on the 404.
WALK = [
    "search-error",
    "search-results",
    "detail",
    "detail-demo",
    "shortlist",
    "data",
    "login",
    "signup",
    "inquiry",
    "saved-searches",
    "404",
]
PLACEHOLDER = re.compile(r"%(\(\w+\))?[sd]|\{\w*\}|<|&")


def open_inquiry(browser_page: BrowserPage, sites, language: str) -> None:  # noqa: F811
    page = browser_page.page
    page.goto(browser_page.url(reverse("inquiry_new") + "?kind=plot"))
    expect(page.locator("form.inq-form")).to_be_visible()


PAGE_OPENERS = {**PAGES, "inquiry": open_inquiry}


@cache
def english_leftovers(language: str) -> frozenset[str]:
    """English interface texts that the language's catalogue translates otherwise: a text
    node of the page that is exactly one of them escaped translation. (Whole text nodes,
    not substrings: data such as a licence "unclear: demo use only" is not interface.)"""
    path = catalogue_path(language)
    if language == "en" or not path.exists():
        return frozenset()
    texts, translations = set(), set()
    for entry in polib.pofile(str(path)):
        translations.add(" ".join(entry.msgstr.split()))
        msgid = entry.msgid
        if entry.msgid_plural or entry.obsolete or not entry.msgstr or entry.msgstr == msgid:
            continue
        if len(msgid) <= 3 or PLACEHOLDER.search(msgid):
            continue
        texts.add(" ".join(msgid.split()))
    # Language names are written in their own language everywhere (the switcher, the
    # language fields): "English" is meant.
    # A word the language borrowed is its own translation somewhere (Dutch "Shortlist" as
    # the page title): not a leftover.
    return frozenset(texts - translations - {name for _code, name in settings.LANGUAGES})


TEXT_NODES = """() => {
    const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
    const texts = [];
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const parent = node.parentElement;
        if (parent && !parent.closest('script, style, [lang="en"]')) {
            const text = node.textContent.replace(/\\s+/g, ' ').trim();
            if (text) texts.push(text);
        }
    }
    return texts;
}"""


def horizontal_overflow(browser_page: BrowserPage) -> int:
    """How far the page scrolls sideways at 390 px (the same page, narrowed to a phone)."""
    page = browser_page.page
    page.set_viewport_size(PHONE)
    try:
        return page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
    finally:
        page.set_viewport_size(VIEWPORT)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_type_in_every_language_on_a_phone(new_page, sites, language):  # noqa: F811
    # Desktop-wide for the pages' own checks (their filters are open), narrowed to a phone
    # for the overflow check.
    if language != "en" and not catalogue_path(language).exists():
        pytest.skip(
            f"no {language} catalogue yet: its pages mix English with Django's own "
            "translations until the translators' branch is merged"
        )
    browser_page = new_page()
    use_language(browser_page, language)
    problems: list[str] = []
    leftovers = english_leftovers(language)
    for name in WALK:
        PAGE_OPENERS[name](browser_page, sites, language)
        page = browser_page.page
        expect(page.locator("html")).to_have_attribute("lang", language)
        overflow = horizontal_overflow(browser_page)
        if overflow > 0:
            problems.append(f"{name}: scrolls {overflow} px sideways at 390 px")
        page.evaluate("() => document.querySelectorAll('details').forEach((d) => d.open = true)")
        violations = axe_violations(page)
        if violations:
            problems.append(f"{name}: axe" + describe(violations))
        if leftovers:
            english = [text for text in page.evaluate(TEXT_NODES) if text in leftovers]
            if english:
                problems.append(f"{name}: English left in {language}: {english[:5]}")
    translation.deactivate()
    assert problems == [], "\n".join(problems)
    browser_page.assert_self_contained()
