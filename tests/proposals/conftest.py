"""What the offer tests share: an investor's inquiry, three published sites in Essen and
Dortmund, the staff member who compiles offers, and a media folder of the test's own
(offer PDFs are written there). A test file may define its own of any of these."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import User
from properties.models import Site
from proposals.models import Inquiry
from tests.factories import InquiryFactory, SiteFactory, UserFactory


def make_site(**fields: Any) -> Site:
    """A published site (SiteFactory), typed as the model."""
    return SiteFactory(**fields)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff() -> User:
    return UserFactory(
        role=User.Role.STAFF,
        first_name="Petra",
        last_name="Planer",
        email="petra.planer@agency.example",
    )


@pytest.fixture
def inquiry(essen) -> Inquiry:
    return InquiryFactory(company="Rhein Logistik GmbH", contact_name="Erika Mustermann")


@pytest.fixture
def sites(essen, dortmund) -> list[Site]:
    return [
        make_site(title="Hafenfläche Nord", municipality=essen, area_m2=15_000),
        make_site(title="Gewerbepark Süd", municipality=dortmund, area_m2=22_000),
        make_site(title="Logistikfläche Ost", municipality=essen, area_m2=9_000),
    ]
