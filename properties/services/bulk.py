"""Bulk actions of the partner workspace: one workflow step for many sites at once.

Each site goes through the same service as the one-site buttons (`site_submit`,
`site_mark`, `site_verify` in moderation.py), in its own transaction: a site that may not
take the step (another organisation's site, a draft that cannot be withdrawn, a site changed
meanwhile) is skipped with the reason, and the others go through. Ids the user may not edit
are never loaded: they are reported as skipped without naming the site.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from properties.models import Site

from .moderation import site_mark, site_submit, site_verify

# The bulk actions offered on the workspace: key -> (button label, service call).
BULK_ACTIONS: dict[str, tuple[str | Promise, Callable[[Site, User], Site]]] = {
    "submit": (
        gettext_lazy("Submit for publication"),
        lambda site, user: site_submit(site=site, acting_user=user),
    ),
    "verify": (
        gettext_lazy("Mark still current"),
        lambda site, user: site_verify(site=site, acting_user=user),
    ),
    "withdraw": (
        gettext_lazy("Withdraw"),
        lambda site, user: site_mark(site=site, acting_user=user, status=Site.Status.WITHDRAWN),
    ),
}

# A bulk request changes at most this many sites: each goes through its service (about
# 12 ms a site measured here, so 1,000 sites take ~12 s); more is refused with a message
# asking to narrow the filter.
MAX_BULK_SITES = 1000


@dataclass
class BulkSkip:
    site_id: int
    title: str  # "" for ids the user may not see
    reason: str


@dataclass
class BulkResult:
    action: str
    done: list[Site] = field(default_factory=list)
    skipped: list[BulkSkip] = field(default_factory=list)

    def reasons(self) -> dict[str, list[BulkSkip]]:
        """The skipped sites grouped by reason, in the order the reasons first occurred."""
        grouped: dict[str, list[BulkSkip]] = {}
        for skip in self.skipped:
            grouped.setdefault(skip.reason, []).append(skip)
        return grouped


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("You may not do this.")


def _already_done(action: str, site: Site) -> str:
    """Why a step would change nothing: a submitted site is not submitted again, a
    withdrawn one not withdrawn again."""
    if action == "submit" and site.status == Site.Status.SUBMITTED:
        return _("already submitted")
    if action == "withdraw" and site.status == Site.Status.WITHDRAWN:
        return _("already withdrawn")
    return ""


def sites_bulk_action(*, site_ids: Iterable[int], action: str, acting_user: User) -> BulkResult:
    """Applies `action` ("submit", "verify" or "withdraw") to each of `site_ids` the user may
    edit, each site in its own transaction; the rest are skipped, each with a reason."""
    if action not in BULK_ACTIONS:
        raise ValidationError({"action": _("Unknown action.")})
    wanted = list(dict.fromkeys(int(pk) for pk in site_ids))
    if len(wanted) > MAX_BULK_SITES:
        raise ValidationError(
            {
                "sites": _("At most %(count)s sites can be changed at once; narrow the filter.")
                % {"count": MAX_BULK_SITES}
            }
        )
    step = BULK_ACTIONS[action][1]
    result = BulkResult(action=action)
    editable = {
        site.pk: site
        for site in Site.objects.editable_by(acting_user)
        .filter(pk__in=wanted)
        .only("pk", "title", "status", "version", "organisation_id", "municipality_id")
    }
    for pk in wanted:
        site = editable.get(pk)
        if site is None:
            result.skipped.append(
                BulkSkip(
                    site_id=pk,
                    title="",
                    reason=_("not a site you may edit, or no longer there"),
                )
            )
            continue
        unchanged = _already_done(action, site)
        if unchanged:
            result.skipped.append(BulkSkip(site_id=pk, title=site.title, reason=unchanged))
            continue
        try:
            with transaction.atomic():
                step(site, acting_user)
        except (PermissionDenied, ValidationError) as error:
            result.skipped.append(BulkSkip(site_id=pk, title=site.title, reason=_error_text(error)))
        else:
            result.done.append(site)
    return result
