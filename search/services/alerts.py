"""Saved searches and their e-mail alerts.

An investor saves a search: the URL query string of the search page, checked by the one
`SiteFilterSet` when saved. `alerts_send` (the `send_search_alerts` command, run e.g. every
15 minutes by cron) finds the public sites that match a saved search and were published or
changed (`updated_at`) since it was last checked, and e-mails them: one e-mail per search,
in the search's language.

No duplicates: a `SearchAlert` row exists once per saved search, site and site version (its
`updated_at`, a unique constraint), so a state of a site is alerted once and a later change
once more. Each saved search is handled in its own transaction holding its row lock
(`SELECT … FOR UPDATE SKIP LOCKED`): two runs at once split the searches between them
instead of both mailing the same one.

Mail failures lose nothing: alerts are recorded first (`sent_at` empty) and marked sent only
after the mail server accepted the e-mail; the rows still unsent are e-mailed by the next
run. The one window left is a crash between the server's acceptance and the commit, which
sends that e-mail again (at least once, rather than at most once).
"""

from __future__ import annotations

import datetime
import logging
from smtplib import SMTPException

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from properties.api.filters import SiteFilterSet
from properties.models import Site
from properties.presentation import site_price
from sitefinder.mail import templated_email

from ..models import SavedSearch, SearchAlert
from ..presentation import empty_search_text, search_place_names

logger = logging.getLogger("sitefinder.search.alerts")

MAX_SAVED_SEARCHES_PER_USER = 50
# A drawn polygon can be long; anything longer is not a search page's URL.
MAX_QUERY_LENGTH = 20_000
# Query parameters of the search page that shape the view, not the set of sites.
NOT_SAVED_PARAMETERS = ("page", "page_size", "selected", "format")
# A site saved in a transaction that commits after a run began carries an `updated_at`
# before that run's end: each run looks back this far, so such a change is not missed.
# Versions already alerted are skipped by the unique constraint.
LOOKBACK = datetime.timedelta(minutes=10)
UNSUBSCRIBE_SALT = "search.saved-search.unsubscribe"


# --- saved searches ----------------------------------------------------------------------


def saved_search_normalise_query(query: str) -> str:
    """The query string as stored: without a leading "?" and the page parameters, encoded
    one way."""
    params = QueryDict(query.strip().removeprefix("?"), mutable=True)
    for name in NOT_SAVED_PARAMETERS:
        params.pop(name, None)
    return params.urlencode()


def saved_search_filterset(query: str) -> SiteFilterSet:
    """The filter of a saved query over the public sites (the investor search's own)."""
    return SiteFilterSet(QueryDict(query), queryset=Site.objects.published())


def search_page_url(query: str) -> str:
    """The search page showing a saved query (relative)."""
    return reverse("map") + (f"?{query}" if query else "")


def saved_search_default_name(query: str) -> str:
    """A readable name of a search, built from its filters in the active language
    ("Plot, area ≥ 5 ha, Sale, Bochum"), cut to the name's length; "All sites" without."""
    text = empty_search_text(query, search_place_names([query]))
    text = text or _("All sites")
    limit = SavedSearch._meta.get_field("name").max_length or 120
    return text if len(text) <= limit else text[: limit - 1].rstrip(", ") + "…"


@transaction.atomic
def saved_search_create(
    *,
    user: User,
    name: str,
    query: str,
    language: str | None = None,
    frequency: str = SavedSearch.Frequency.INSTANT,
) -> SavedSearch:
    """Saves a search for `user`. An invalid query raises ValidationError naming the filter
    parameter (`{"area_min": [...]}`), as the sites API does. Alerts cover sites published
    or changed from now on; `language` (default: the user's) is that of the e-mails. An
    empty `name` becomes one built from the filters (`saved_search_default_name`)."""
    if len(query) > MAX_QUERY_LENGTH:
        raise ValidationError({"query": [_("The search is too long to be saved.")]})
    query = saved_search_normalise_query(query)
    filterset = saved_search_filterset(query)
    if not filterset.is_valid():
        raise ValidationError(filterset.form.errors.as_data())
    now = timezone.now()
    language = language or user.language
    name = " ".join(name.split())  # one line: it goes into the e-mail's subject
    if not name:
        with translation.override(language):
            name = saved_search_default_name(query)
    saved_search = SavedSearch(
        user=user,
        name=name,
        query=query,
        frequency=frequency,
        language=language,
        created_at=now,
        alerts_since=now,
        last_checked_at=now,
    )
    saved_search.full_clean()
    # Lock the user's row, so two saves at once cannot both pass the limit.
    User.objects.select_for_update().filter(pk=user.pk).first()
    if SavedSearch.objects.of_user(user).count() >= MAX_SAVED_SEARCHES_PER_USER:
        raise ValidationError(
            {
                "name": [
                    _("You can keep at most %(max)d saved searches. Delete one first.")
                    % {"max": MAX_SAVED_SEARCHES_PER_USER}
                ]
            }
        )
    saved_search.save()
    return saved_search


@transaction.atomic
def saved_search_delete(*, user: User, saved_search_id: int) -> bool:
    """Deletes one of `user`'s saved searches with its alerts; False if they have no such
    search (another user's counts as none)."""
    deleted, _by_model = SavedSearch.objects.of_user(user).filter(pk=saved_search_id).delete()
    return deleted > 0


@transaction.atomic
def saved_search_update(
    *, user: User, saved_search_id: int, name: str, frequency: str
) -> SavedSearch | None:
    """Renames a search and sets how often it alerts; None if `user` has no such search.
    An empty name is the one built from its filters; a bad value raises ValidationError
    naming the field."""
    saved_search = (
        SavedSearch.objects.of_user(user).select_for_update().filter(pk=saved_search_id).first()
    )
    if saved_search is None:
        return None
    name = " ".join(name.split())
    if not name:
        with translation.override(saved_search.language):
            name = saved_search_default_name(saved_search.query)
    saved_search.name = name
    saved_search.frequency = frequency
    saved_search.full_clean()
    saved_search.save(update_fields=["name", "frequency"])
    return saved_search


@transaction.atomic
def saved_search_pause(*, user: User, saved_search_id: int) -> bool:
    """Pauses a search's alerts (until resumed); False if `user` has no such search."""
    return bool(
        SavedSearch.objects.of_user(user).filter(pk=saved_search_id).update(is_active=False)
    )


@transaction.atomic
def saved_search_resume(*, user: User, saved_search_id: int) -> bool:
    """Turns a search's alerts back on, for sites changed from now on (no flood of what
    changed while they were off); False if `user` has no such search."""
    saved_search = (
        SavedSearch.objects.of_user(user).select_for_update().filter(pk=saved_search_id).first()
    )
    if saved_search is None:
        return False
    if not saved_search.is_active:
        saved_search.is_active = True
        saved_search.alerts_since = saved_search.last_checked_at = timezone.now()
        saved_search.save(update_fields=["is_active", "alerts_since", "last_checked_at"])
    return True


def saved_search_unsubscribe_token(saved_search: SavedSearch) -> str:
    """The secret part of a search's unsubscribe link; valid as long as SECRET_KEY (or one
    of SECRET_KEY_FALLBACKS) is."""
    signer = signing.Signer(salt=UNSUBSCRIBE_SALT)
    return signer.sign(str(saved_search.pk)).rsplit(signer.sep, 1)[1]


def saved_search_for_unsubscribe_token(*, saved_search_id: int, token: str) -> SavedSearch | None:
    """The saved search an unsubscribe link names, or None if the link was tampered with."""
    signer = signing.Signer(salt=UNSUBSCRIBE_SALT)
    try:
        signer.unsign(f"{saved_search_id}{signer.sep}{token}")
    except signing.BadSignature:
        return None
    return SavedSearch.objects.filter(pk=saved_search_id).first()


@transaction.atomic
def saved_search_unsubscribe(*, saved_search: SavedSearch) -> SavedSearch:
    """Turns a search's alerts off (the link in its e-mails; no login needed)."""
    SavedSearch.objects.filter(pk=saved_search.pk).update(is_active=False)
    saved_search.is_active = False
    return saved_search


# --- alerts ------------------------------------------------------------------------------


def alerts_send(*, now: datetime.datetime | None = None) -> int:
    """E-mails each active saved search's new and changed matching sites; returns the
    number of e-mails sent. Safe to run again, and twice at once (see the module doc)."""
    now = now or timezone.now()
    search_ids = list(SavedSearch.objects.due_for_alerts(now).values_list("pk", flat=True))
    sent = 0
    for search_id in search_ids:
        try:
            sent += _alerts_send_for(search_id, now=now)
        except Exception:
            # One broken search must not stop the others; its transaction was rolled back,
            # so the next run tries it again.
            logger.exception("alerts of saved search %s failed", search_id)
    return sent


@transaction.atomic
def _alerts_send_for(search_id: int, *, now: datetime.datetime) -> int:
    search = (
        SavedSearch.objects.due_for_alerts(now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("user")
        .filter(pk=search_id)
        .first()
    )
    if search is None:
        return 0  # another run holds it, or it was switched off meanwhile
    filterset = saved_search_filterset(search.query)
    if not filterset.is_valid():
        # E.g. a municipality merged away: alerting everything would be worse than nothing.
        logger.warning(
            "saved search %s is no longer valid: %s", search.pk, filterset.form.errors.as_json()
        )
        return _checked(search, now)

    since = max(search.last_checked_at - LOOKBACK, search.alerts_since)
    changed = (
        filterset.qs.filter(updated_at__gt=since, updated_at__lte=now)
        .order_by()
        .values_list("pk", "updated_at")
    )
    SearchAlert.objects.bulk_create(
        [
            SearchAlert(saved_search=search, site_id=site_id, site_version=version, created_at=now)
            for site_id, version in changed
        ],
        ignore_conflicts=True,  # this version of the site was alerted already
    )

    unsent = search.alerts.filter(sent_at__isnull=True)
    # What is still unsent (also from a run whose e-mail failed) and still matches.
    sites = list(
        filterset.qs.filter(pk__in=unsent.values("site_id")).select_related("municipality")
    )
    # Unsent alerts of sites that no longer match (unpublished, changed) go unmentioned.
    unsent.exclude(site_id__in=[site.pk for site in sites]).delete()
    if not sites:
        return _checked(search, now)

    message = _alert_message(search, sites)
    try:
        message.send()
    except (SMTPException, OSError):
        logger.exception("alert e-mail of saved search %s failed; next run retries", search.pk)
        return _checked(search, now)
    unsent.update(sent_at=now)
    search.last_emailed_at = now
    search.save(update_fields=["last_emailed_at"])
    _checked(search, now)
    return 1


def _checked(search: SavedSearch, now: datetime.datetime) -> int:
    search.last_checked_at = now
    search.save(update_fields=["last_checked_at"])
    return 0


def _absolute(path: str) -> str:
    return settings.SITE_URL + path


def _alert_message(search: SavedSearch, sites: list[Site]) -> EmailMultiAlternatives:
    with translation.override(search.language):
        # Every link in the search's language (/pl/...): an unprefixed one would redirect,
        # which a mail client's one-click unsubscribe (a POST) does not follow.
        unsubscribe_url = _absolute(
            reverse(
                "saved_search_unsubscribe",
                kwargs={"pk": search.pk, "token": saved_search_unsubscribe_token(search)},
            )
        )
        context = {
            "search": search,
            "sites": [
                {
                    "site": site,
                    "url": _absolute(reverse("site_detail", kwargs={"pk": site.pk})),
                    "price": site_price(site),
                }
                for site in sites
            ],
            "search_url": _absolute(search_page_url(search.query)),
            "saved_searches_url": _absolute(reverse("saved_searches")),
            "unsubscribe_url": unsubscribe_url,
        }
        subject = ngettext(
            "sitefinder: %(count)d new or changed site for “%(name)s”",
            "sitefinder: %(count)d new or changed sites for “%(name)s”",
            len(sites),
        ) % {"count": len(sites), "name": search.name}
        message = templated_email(
            template="search/email/alert",
            context=context,
            subject=subject,
            to=search.user.email,
            headers={
                # One-click unsubscribe (RFC 8058): mail clients POST to the link.
                "List-Unsubscribe": f"<{unsubscribe_url}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            },
        )
    return message
