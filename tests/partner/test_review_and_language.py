"""Staff's review queue, and partner and staff pages wholly in the language chosen
(issue 13)."""

import ast
import datetime
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from properties.models import Site, SiteChange
from properties.partner_views import ACTION_LABELS
from properties.services.moderation import site_submit, sites_review
from sitefinder.l10n import translate_path
from tests.factories import PartnerOrganisationFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(essen):
    organisation = PartnerOrganisationFactory(name="WFG Essen", municipalities=[essen])
    return {
        "partner": UserFactory(role=User.Role.PARTNER, organisation=organisation, language="en"),
        "staff": UserFactory(role=User.Role.STAFF, language="en"),
    }


def submitted(essen, people, title: str, days_ago: int) -> Site:
    site: Site = SiteFactory(  # type: ignore[assignment]
        municipality=essen,
        title=title,
        status=Site.Status.DRAFT,
        organisation=people["partner"].organisation,
    )
    site_submit(site=site, acting_user=people["partner"])
    SiteChange.objects.filter(site=site, action=SiteChange.Action.SUBMITTED).update(
        changed_at=timezone.now() - datetime.timedelta(days=days_ago)
    )
    return site


def test_queue_lists_submitted_sites_oldest_first(client, essen, people):
    newer = submitted(essen, people, "Newer", 1)
    older = submitted(essen, people, "Older", 9)
    SiteFactory(municipality=essen, title="Already published")
    assert list(Site.objects.to_review()) == [older, newer]
    client.force_login(people["staff"])
    page = client.get(reverse("staff_review_queue"), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("Older") < html.index("Newer")
    assert "Already published" not in html
    assert "waiting 9 days" in html
    client.force_login(people["partner"])
    assert client.get(reverse("staff_review_queue")).status_code == 404


def test_bulk_publish_and_send_back_with_a_reason(client, essen, people):
    one, two, three = (submitted(essen, people, f"Site {n}", n) for n in (1, 2, 3))
    client.force_login(people["staff"])
    url = reverse("staff_review_queue")
    response = client.post(url, {"site": [one.pk, two.pk], "decision": "publish"})
    assert response.status_code == 303
    assert {s.status for s in Site.objects.filter(pk__in=[one.pk, two.pk])} == {"published"}

    # Sending back needs a reason: nothing changes without one.
    response = client.post(url, {"site": [three.pk], "decision": "send_back", "reason": " "})
    assert response.status_code == 400
    three.refresh_from_db()
    assert three.status == Site.Status.SUBMITTED

    mail.outbox.clear()
    client.post(url, {"site": [three.pk], "decision": "send_back", "reason": "Add the B-Plan"})
    three.refresh_from_db()
    assert (three.status, three.status_reason) == ("draft", "Add the B-Plan")
    assert three.changes.filter(action=SiteChange.Action.SENT_BACK).exists()


def test_a_batch_with_a_site_no_longer_submitted_changes_nothing(essen, people):
    waiting = submitted(essen, people, "Waiting", 2)
    published = SiteFactory(municipality=essen, title="Done")
    with pytest.raises(Exception, match="Done"):
        sites_review(
            site_ids=[waiting.pk, published.pk], decision="publish", acting_user=people["staff"]
        )
    waiting.refresh_from_db()
    assert waiting.status == Site.Status.SUBMITTED


# -- every partner and staff page in the language chosen -------------------------------------


def workflow_labels() -> dict[str, str]:
    """English workflow label -> its German translation, from the catalogue."""
    english = [
        *(str(label) for label in _english(ACTION_LABELS.values())),
        "Send back",
        "Mark available again",
        "Still current",
        "To review",
        *(str(label) for label in _english(Site.Status.labels)),
    ]
    with translation.override("de"):
        german = {text: translation.gettext(text) for text in english}
    assert all(german[text] != text for text in english), "every label is translated"
    return german


def _english(labels):
    with translation.override("en"):
        return [str(label) for label in labels]


def visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return " ".join(unescape(html).split())


def contains(text: str, label: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text) is not None


@pytest.fixture
def pages(essen, people):
    """The partner and staff pages, with a site in every status so every button shows."""
    organisation = people["partner"].organisation
    sites = {
        status: SiteFactory(
            municipality=essen, title=f"Site {status}", status=status, organisation=organisation
        )
        for status in Site.Status.values
    }
    site = sites[Site.Status.SUBMITTED]
    return [
        reverse("partner_dashboard"),
        reverse("partner_site_edit", args=[site.pk]),
        reverse("partner_site_history", args=[site.pk]),
        reverse("partner_upload"),
        reverse("staff_review_queue"),
        reverse("staff_data_health"),
        reverse("staff_invite"),
        reverse("inbox"),
        reverse("staff_dashboard"),
    ]


@pytest.mark.parametrize("role", ["partner", "staff"])
def test_no_page_mixes_the_workflow_labels_of_both_languages(client, people, pages, role):
    labels = workflow_labels()
    client.force_login(people[role])
    checked = 0
    for url in pages:
        for language in ("de", "en"):
            response = client.get(translate_path(url, language))
            if response.status_code in (403, 404):
                continue  # a staff page for a partner
            assert response.status_code == 200, url
            text = visible_text(response.content.decode())
            checked += 1
            for english, german in labels.items():
                wrong = english if language == "de" else german
                assert not contains(text, wrong), f"{url} in {language} shows “{wrong}”"
    assert checked >= (18 if role == "staff" else 8)


def test_no_module_translates_at_import():
    """A label translated when its module is imported is in the language of that moment on
    every page: module and class level strings must use gettext_lazy."""
    eager_names = {"gettext", "ngettext", "pgettext"}
    offenders = []
    for path in Path(settings.BASE_DIR).glob("*/**/*.py"):
        if any(part in {".venv", "node_modules", "migrations", "tests"} for part in path.parts):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        eager = {
            alias.asname or alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("translation")
            for alias in node.names
            if alias.name in eager_names
        }
        if not eager:
            continue
        offenders += [f"{path}:{call.lineno}" for call in _calls_outside_functions(tree, eager)]
    assert offenders == []


def _calls_outside_functions(node, names):
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Name):
            if child.func.id in names:
                yield child
        yield from _calls_outside_functions(child, names)
