"""Fixtures of the partner workspace tests: media in a temporary folder, and partners of
two municipalities, staff and an investor."""

from pathlib import Path

import pytest

from accounts.models import User
from tests.factories import PartnerOrganisationFactory, UserFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def people(essen, dortmund) -> dict:
    organisation_a = PartnerOrganisationFactory(name="WFG Essen", municipalities=[essen])
    organisation_b = PartnerOrganisationFactory(name="WFG Dortmund", municipalities=[dortmund])
    return {
        "a": UserFactory(
            username="anna", role=User.Role.PARTNER, organisation=organisation_a, language="en"
        ),
        "b": UserFactory(
            username="bernd", role=User.Role.PARTNER, organisation=organisation_b, language="en"
        ),
        "staff": UserFactory(username="stefanie", role=User.Role.STAFF, language="en"),
        "investor": UserFactory(username="ivo", role=User.Role.INVESTOR),
    }
