"""The shortlist page in a real browser: toggle.js adds sites through the API (with the
CSRF token from the cookie), compare.js removes one without a page load."""

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import SiteFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_shortlist_add_compare_and_remove(browser_page, reference_data, essen, dortmund):
    first = SiteFactory(
        municipality=essen, at=Point(362_800, 5_703_800, srid=25832), title="Plot A"
    )
    second = SiteFactory(
        municipality=dortmund, at=Point(393_200, 5_709_300, srid=25832), title="Hall B"
    )
    page = browser_page.page
    page.goto(browser_page.url(reverse("shortlist")))
    expect(page.get_by_text("Your shortlist is empty.")).to_be_visible()

    ids = page.evaluate(
        """async ([api, first, second]) => {
            const shortlist = await import('/static/js/shortlist/toggle.js');
            await shortlist.addToShortlist(api, first);
            return shortlist.toggleShortlist(api, second, true);
        }""",
        [reverse("api-shortlist"), first.pk, second.pk],
    )
    assert ids == [first.pk, second.pk]
    expect(page.locator("[data-shortlist-count]")).to_have_text("2")

    page.reload()
    table = page.get_by_role("table", name="Shortlisted sites side by side")
    expect(table.get_by_role("columnheader")).to_have_count(2)
    browser_page.screenshot("shortlist.png", full_page=True)

    page.get_by_role("button", name="Remove Plot A").click()
    expect(page.locator("[data-shortlist-status]")).to_have_text(
        "Removed from the shortlist: Plot A"
    )
    expect(table.get_by_role("columnheader")).to_have_count(1)
    expect(table.get_by_role("link", name="Hall B")).to_be_visible()
    expect(page.locator("[data-shortlist-count]")).to_have_text("1")
    assert page.url.endswith(reverse("shortlist"))
    browser_page.assert_self_contained()
