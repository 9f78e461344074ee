"""The shortlist: sites a visitor wants to compare side by side.

Visitors keep it in the session (`request.session["shortlist"]`, site ids oldest first),
signed-in users in their account (`ShortlistEntry`); on login the session's list moves into
the account. Only sites the user may see can be added, and only those are listed: a site
unpublished later stays stored, hidden, and comes back if it is published again, unless its
place was needed for a new site on a full list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import User
from properties.models import Site

from ..models import SHORTLIST_MAX_SITES, ShortlistEntry

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request

    AnyRequest = HttpRequest | Request

SESSION_KEY = "shortlist"

# Columns the comparison never shows: geometries are large, texts long.
_NOT_COMPARED = ("geom", "geom_web", "location", "location_web", "description", "restriction_notes")


def shortlist_ids(*, request: AnyRequest) -> list[int]:
    """Ids of the shortlisted sites the user may see, in the order they were added."""
    user = _account_user(request)
    if user is not None:
        return list(
            ShortlistEntry.objects.of_user(user)
            .with_visibility(user)
            .filter(is_visible=True)
            .values_list("site_id", flat=True)
        )
    stored = _session_ids(request)
    visible = _visible_ids(None, stored)
    return [site_id for site_id in stored if site_id in visible]


def shortlist_sites(*, request: AnyRequest) -> list[Site]:
    """The shortlisted sites the user may see, in the order they were added, with their
    municipality (two queries however many sites; no geometries)."""
    ids = shortlist_ids(request=request)
    if not ids:
        return []
    sites = (
        Site.objects.visible_to(_account_user(request))
        .select_related("municipality")
        .defer(*_NOT_COMPARED)
        .in_bulk(ids)
    )
    return [sites[site_id] for site_id in ids if site_id in sites]


@transaction.atomic
def shortlist_add(*, request: AnyRequest, site: Site) -> list[int]:
    """Puts a site the user may see on their shortlist (again: no change) and returns the
    visible ids. A full list (SHORTLIST_MAX_SITES visible sites) raises ValidationError."""
    user = _account_user(request)
    if not Site.objects.visible_to(user).filter(pk=site.pk).exists():
        raise Http404(_("There is no site with the id %(id)s.") % {"id": site.pk})
    added, rejected = _store_add(request, user, [site.pk])
    if rejected:
        raise ValidationError(
            {
                "site": _(
                    "Your shortlist is full: it holds at most %(max)d sites. "
                    "Remove one to add another."
                )
                % {"max": SHORTLIST_MAX_SITES}
            }
        )
    return shortlist_ids(request=request)


@transaction.atomic
def shortlist_remove(*, request: AnyRequest, site_id: int) -> list[int]:
    """Takes a site off the shortlist, shown or hidden; a site not on it is no error."""
    user = _account_user(request)
    if user is not None:
        ShortlistEntry.objects.filter(user=user, site_id=site_id).delete()
    else:
        stored = _session_ids(request)
        if site_id in stored:
            request.session[SESSION_KEY] = [i for i in stored if i != site_id]
    return shortlist_ids(request=request)


@transaction.atomic
def shortlist_merge_session_into_account(*, request: AnyRequest, user: User) -> list[int]:
    """On login: the sites of the session's shortlist that the user may see join their
    account's list (after its own, as far as there is room), and the session forgets them."""
    session_ids = _session_ids(request)
    if SESSION_KEY in request.session:
        del request.session[SESSION_KEY]
    if session_ids:
        visible = _visible_ids(user, session_ids)
        _store_add(request, user, [i for i in session_ids if i in visible])
    return [site_id for site_id, is_visible in _account_entries(user) if is_visible]


# --- storage -----------------------------------------------------------------------------


def _account_user(request: AnyRequest) -> User | None:
    user = getattr(request, "user", None)
    return user if isinstance(user, User) and user.is_authenticated else None


def _session_ids(request: AnyRequest) -> list[int]:
    stored = request.session.get(SESSION_KEY, [])
    return [site_id for site_id in stored if isinstance(site_id, int)]


def _visible_ids(user: User | None, site_ids: list[int]) -> set[int]:
    if not site_ids:
        return set()
    return set(Site.objects.visible_to(user).filter(pk__in=site_ids).values_list("pk", flat=True))


def _account_entries(user: User) -> list[tuple[int, bool]]:
    """(site id, visible to the user) of the account's entries, oldest first."""
    return list(
        ShortlistEntry.objects.of_user(user)
        .with_visibility(user)
        .values_list("site_id", "is_visible")
    )


def _store_add(
    request: AnyRequest, user: User | None, new_ids: list[int]
) -> tuple[list[int], list[int]]:
    """Stores visible `new_ids` in the account or the session: (added, rejected as full)."""
    if user is not None:
        entries = _account_entries(user)
        stored = [site_id for site_id, _visible in entries]
        visible = {site_id for site_id, is_visible in entries if is_visible}
    else:
        stored = _session_ids(request)
        visible = _visible_ids(None, stored)
    added, evicted, rejected = _plan_additions(stored, visible, new_ids)
    if not added:
        return added, rejected
    if user is not None:
        ShortlistEntry.objects.filter(user=user, site_id__in=evicted).delete()
        ShortlistEntry.objects.bulk_create(
            [ShortlistEntry(user=user, site_id=site_id) for site_id in added],
            ignore_conflicts=True,  # the same site added twice at once
        )
    else:
        request.session[SESSION_KEY] = [i for i in stored if i not in evicted] + added
    return added, rejected


def _plan_additions(
    stored: list[int], visible: set[int], new_ids: Iterable[int]
) -> tuple[list[int], list[int], list[int]]:
    """Which of `new_ids` (all visible) fit on a list holding `stored`, oldest first, of which
    `visible` are shown: (added, evicted, rejected). A list holds SHORTLIST_MAX_SITES entries;
    hidden entries, oldest first, give way when a new site needs their place."""
    on_list = set(stored)
    hidden = [site_id for site_id in stored if site_id not in visible]
    shown = len(stored) - len(hidden)
    added: list[int] = []
    evicted: list[int] = []
    rejected: list[int] = []
    for site_id in new_ids:
        if site_id in on_list:
            continue
        if shown >= SHORTLIST_MAX_SITES:
            rejected.append(site_id)
            continue
        if len(stored) - len(evicted) + len(added) >= SHORTLIST_MAX_SITES:
            evicted.append(hidden.pop(0))
        added.append(site_id)
        on_list.add(site_id)
        shown += 1
    return added, evicted, rejected
