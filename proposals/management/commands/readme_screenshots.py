"""Screenshots for the README from what scripts/run.sh serves: the real reference data, the
generated demo sites and demo inquiries (marked as demo data on every page), taken in
headless Chromium with every non-loopback request refused. The staff pages are taken as a
throwaway staff account that is deleted afterwards."""

import secrets
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from benchmarks.servers import django_server
from properties.models import Site
from proposals.models import Inquiry, OfferLink
from sitefinder.chromium import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS

OUT = Path(settings.BASE_DIR) / "docs" / "screenshots"
SEARCH = "?kind=plot&area_min_ha=2&max_distance_station_m=3000&sort=-area&map=11/51.47/7.1"


def _offline(page) -> None:
    """Every request to anything but this machine is refused."""
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if urlsplit(route.request.url).hostname in LOCAL_HOSTS
            else route.abort()
        ),
    )


class Command(BaseCommand):
    help = (
        "Writes docs/screenshots/*.png from the running data: the search, a site, its exposé, "
        "the inquiry form, and (with demo inquiries) the inbox, matches, offer builder, "
        "investor's offer page and dashboard."
    )

    def handle(self, *args, **options):
        from playwright.sync_api import sync_playwright

        site = (
            Site.objects.published()
            .filter(kind=Site.Kind.PLOT, municipality__name="Essen")
            .order_by("-gross_area_m2")
            .first()
        )
        if site is None:
            raise CommandError("no published plot in Essen: run generate_demo_sites first")
        OUT.mkdir(parents=True, exist_ok=True)
        # The database work before the browser starts: Playwright's sync API runs an event
        # loop in this thread, and Django refuses ORM calls beside one.
        link = (
            OfferLink.objects.usable()
            .filter(offer__inquiry__is_demo=True, offer__language="en", offer__items__isnull=False)
            .select_related("offer__inquiry")
            .order_by("-offer__inquiry__received_at")
            .first()
        )
        password = secrets.token_urlsafe(16)
        staff = User.objects.create_user(
            username=f"screenshots-{secrets.token_hex(4)}",
            password=password,
            role=User.Role.STAFF,
            first_name="Screenshot",
            language="en",
        )
        try:
            self._take(sync_playwright, site, link, staff.username, password)
        finally:
            staff.delete()
        self.stdout.write(f"screenshots written to {OUT}")

    def _take(self, sync_playwright, site: Site, link: OfferLink | None, username, password):
        with django_server() as port, sync_playwright() as playwright:
            base = f"http://127.0.0.1:{port}"
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 860}, locale="en-GB")
            _offline(page)
            for name, path in (("map", "/"), ("search", "/" + SEARCH)):
                page.goto(base + path)
                page.wait_for_function(
                    "document.querySelectorAll('.layer-sites path').length > 0", timeout=30_000
                )
                page.wait_for_timeout(800)  # let the last tiles settle
                page.screenshot(path=str(OUT / f"{name}.png"), animations="disabled")
            page.goto(f"{base}/sites/{site.pk}/")
            page.wait_for_timeout(1500)
            page.screenshot(
                path=str(OUT / "site-detail.png"), full_page=True, animations="disabled"
            )
            with tempfile.TemporaryDirectory() as tmp:
                pdf = Path(tmp) / "expose.pdf"
                pdf.write_bytes(
                    page.request.get(f"{base}/sites/{site.pk}/expose.pdf?lang=en").body()
                )
                # poppler-utils, installed by scripts/setup.sh; fixed arguments, our own file.
                pdftoppm = ["pdftoppm", "-png", "-r", "70", "-f", "1", "-l", "1", "-singlefile"]
                subprocess.run([*pdftoppm, str(pdf), str(OUT / "expose")], check=True)  # noqa: S603
            page.goto(f"{base}/inquiry/")
            page.wait_for_selector("#inquiry-map[data-ready='true']")
            page.screenshot(path=str(OUT / "inquiry-form.png"), animations="disabled")
            if link is None:
                self.stderr.write("no demo offer with a usable link: run generate_demo_inquiries")
            else:
                self._proposals(browser, base, link, username, password)
            browser.close()

    def _proposals(self, browser, base: str, link: OfferLink, username: str, password: str):
        """Staff's side on a demo inquiry with an offer, and the investor's offer page."""
        inquiry: Inquiry = link.offer.inquiry
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="en-GB")
        _offline(page)
        page.goto(f"{base}/offers/{link.token}/")
        page.wait_for_selector("#offer-map[data-ready='true']")
        page.wait_for_timeout(800)
        page.screenshot(path=str(OUT / "offer-link.png"), animations="disabled")

        page.goto(f"{base}/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.locator("form[action*='login'] button[type=submit]").first.click()
        page.wait_for_load_state()
        for name, path in (
            ("inbox", "/staff/inquiries/?status=all"),
            ("matches", f"/staff/inquiries/{inquiry.pk}/matches/?limit=6"),
            ("offer-builder", f"/staff/offers/{link.offer_id}/"),
            ("dashboard", "/staff/dashboard/"),
        ):
            page.goto(base + path)
            page.wait_for_timeout(600)
            page.screenshot(path=str(OUT / f"{name}.png"), animations="disabled")
