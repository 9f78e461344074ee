"""Issue 13 in Chromium, without the internet: the offer type filter, saved searches people
manage (rename, frequency, unsubscribe from the e-mail's link) and staff's review queue."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import User
from properties.models import Site
from properties.services.moderation import site_submit
from search.models import SavedSearch
from search.services.alerts import alerts_send, saved_search_create
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

PASSWORD = "correct horse battery"
RESULTS = "#result-list .result"


def log_in(view, user: User, next_url: str) -> None:
    page = view.page
    page.goto(view.url(reverse("login")) + "?next=" + next_url)
    page.locator("input[name=username]").fill(user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form[action$='/login/'] button[type=submit]").click()


@pytest.fixture
def offers(reference_data, essen):
    return {
        "sale": SiteFactory(title="Kaufgrundstück", municipality=essen, seed=1),
        "rent": SiteFactory(
            title="Mietbüro",
            kind=Site.Kind.OFFICE,
            municipality=essen,
            price_eur_m2=None,
            rent_eur_m2_month=Decimal("9.50"),
            seed=2,
        ),
        "leasehold": SiteFactory(
            title="Erbbaugrundstück",
            municipality=essen,
            price_eur_m2=None,
            offer_types=["leasehold"],
            ground_rent_eur_m2_year=Decimal("3.40"),
            seed=3,
        ),
    }


def test_offer_type_filter_and_rent_sort(browser_page, offers):
    page = browser_page.page
    page.goto(browser_page.url("/"))
    expect(page.locator("#search-form")).to_have_attribute("data-ready", "true")
    expect(page.locator(RESULTS)).to_have_count(3)
    page.get_by_role("checkbox", name="Rent", exact=True).check()
    expect(page.locator(RESULTS)).to_have_count(1)
    expect(page.locator(RESULTS).first).to_contain_text("Mietbüro")
    expect(page.locator(RESULTS).first).to_contain_text("Rent 9.50 €/m²/month")
    assert "offer_type=rent" in page.url
    page.get_by_role("checkbox", name="Leasehold (Erbbaurecht)").check()
    expect(page.locator(RESULTS)).to_have_count(2)
    page.get_by_role("checkbox", name="Rent", exact=True).uncheck()
    expect(page.locator(RESULTS)).to_have_count(1)
    expect(page.locator(RESULTS).first).to_contain_text("Leasehold (Erbbaurecht) 3.40 €/m²/year")
    # A rent range leaves the sites not to let out.
    page.get_by_role("checkbox", name="Leasehold (Erbbaurecht)").uncheck()
    page.locator("#filter-rent_max").fill("10")
    page.locator("#filter-rent_max").press("Enter")
    expect(page.locator(RESULTS)).to_have_count(1)
    expect(page.locator(RESULTS).first).to_contain_text("Mietbüro")
    browser_page.assert_self_contained()


@pytest.fixture
def investor(reference_data):
    return UserFactory(username="ivo", email="ivo@example.org", language="en")


def test_saved_search_rename_frequency_and_unsubscribe_from_the_mail(browser_page, investor, essen):
    search = saved_search_create(user=investor, name="", query="kind=plot")
    assert search.name == "Plot"
    log_in(browser_page, investor, reverse("saved_searches"))
    page = browser_page.page
    card = page.locator(f"#saved-search-{search.pk}")
    expect(card.locator("h2")).to_have_text("Plot")
    card.get_by_label("Name").fill("Plots for the new depot")
    card.get_by_label("E-mail alerts").select_option("weekly")
    card.get_by_role("button", name="Save changes").click()
    expect(card.locator("h2")).to_have_text("Plots for the new depot")
    expect(card.locator(".saved-search__state")).to_contain_text("Weekly")
    search.refresh_from_db()
    assert search.frequency == "weekly"

    SiteFactory(title="Neue Fläche", municipality=essen)
    assert alerts_send() == 1
    message = mail.outbox[-1]
    unsubscribe = message.extra_headers["List-Unsubscribe"].strip("<>")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe.removeprefix(settings.SITE_URL)
    assert path in message.body

    page.goto(browser_page.url(path))  # the link of the e-mail
    page.get_by_role("button", name="Stop the alerts").click()
    expect(page.locator("main")).to_contain_text("You get no more e-mails")
    page.goto(browser_page.url(reverse("saved_searches")))
    expect(card.locator(".saved-search__state")).to_contain_text("paused")
    assert not SavedSearch.objects.get(pk=search.pk).is_active
    browser_page.assert_self_contained()


def test_staff_review_queue_publishes_and_sends_back(browser_page, reference_data, essen):
    organisation = PartnerOrganisationFactory(municipalities=[essen])
    partner = UserFactory(role=User.Role.PARTNER, organisation=organisation)
    staff = UserFactory(username="stefanie", role=User.Role.STAFF, language="en")
    waiting = []
    for n in range(3):
        site = SiteFactory(
            title=f"Eingereicht {n}",
            municipality=essen,
            organisation=organisation,
            status=Site.Status.DRAFT,
            seed=n,
        )
        site_submit(site=site, acting_user=partner)
        waiting.append(site)
    log_in(browser_page, staff, reverse("staff_review_queue"))
    page = browser_page.page
    expect(page.locator("h1")).to_have_text("To review")
    rows = page.locator(".review-queue__table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("Eingereicht 0")  # the oldest first

    page.locator(f"#review-site-{waiting[0].pk}").check()
    page.locator(f"#review-site-{waiting[1].pk}").check()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messages")).to_contain_text("2 sites are published.")
    expect(rows).to_have_count(1)

    page.locator(f"#review-site-{waiting[2].pk}").check()
    page.get_by_role("button", name="Send back").click()  # without a reason
    expect(page.locator(".form-errors")).to_contain_text("Say why")
    # The refused form answers 400, which Chromium reports; nothing else went wrong.
    assert [e for e in browser_page.errors if "400" in e] == browser_page.errors
    browser_page.errors.clear()
    page.get_by_label("Reason for sending back").fill("Please add the B-Plan number.")
    page.get_by_role("button", name="Send back").click()
    expect(page.locator(".messages")).to_contain_text("1 site was sent back")
    expect(page.locator("main")).to_contain_text("Nothing to review.")
    statuses = {s.title: s.status for s in Site.objects.filter(organisation=organisation)}
    assert statuses == {
        "Eingereicht 0": "published",
        "Eingereicht 1": "published",
        "Eingereicht 2": "draft",
    }
    # The staff menu keeps the header on one line at 1280 px.
    page.set_viewport_size({"width": 1280, "height": 800})
    nav = page.locator(".site-nav > ul")
    heights = nav.evaluate("el => [...el.children].map(li => li.getBoundingClientRect().top)")
    assert max(heights) - min(heights) < 10, heights
    browser_page.assert_self_contained()
