"""Agency staff's pages about the sites: the review queue of submitted sites, the data
health of each municipality."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from accounts.permissions import gated_user, staff_required
from geodata.models import Municipality

from .models import Site, SiteMedia
from .presentation import area_pair
from .querysets import (
    PUBLIC_STATUSES,
    fresh_q,
    hidden_for_staleness_q,
    published_q,
    stale_q,
    through,
)
from .services.moderation import sites_review

# The counts of a row, in the order of the table's columns after the municipality.
COUNT_COLUMNS = (
    "sites",
    "fresh",
    "stale",
    "hidden",
    "missing_price",
    "missing_net_area",
    "missing_available_from",
    "missing_contact_email",
    "missing_photos",
)
COLUMN_LABELS = {
    "sites": _("Sites"),
    "fresh": _("Fresh"),
    "stale": _("Stale"),
    "hidden": _("Hidden"),
    "missing_price": _("No price"),
    "missing_net_area": _("No net area"),
    "missing_available_from": _("No availability date"),
    "missing_contact_email": _("No contact e-mail"),
    "missing_photos": _("No photos"),
}
SORT_KEYS = ("name", *COUNT_COLUMNS)


@dataclass
class HealthRow:
    name: str
    ags: str
    counts: dict[str, int]

    def share(self, column: str) -> float | None:
        """The share (0–1) of the row's sites counted in `column`; None without sites."""
        return self.counts[column] / self.counts["sites"] if self.counts["sites"] else None

    @property
    def cells(self) -> list[tuple[str, int, float | None]]:
        return [(column, self.counts[column], self.share(column)) for column in COUNT_COLUMNS[1:]]


def data_health_rows(now: datetime.datetime | None = None) -> list[HealthRow]:
    """One row per municipality (all of them, with or without sites), counting its sites in
    investor-facing statuses (published, reserved: those freshness hides): fresh, stale but
    shown, hidden for staleness, and those missing key attributes. One aggregate query;
    each condition is the sites' own queryset rule (properties.querysets), through `sites`."""
    public = through(Q(status__in=PUBLIC_STATUSES), "sites")

    has_photo = Exists(
        SiteMedia.objects.filter(site_id=OuterRef("sites__id"), kind=SiteMedia.Kind.PHOTO)
    )
    conditions = {
        "sites": public,
        "fresh": public & through(fresh_q(now), "sites"),
        # Stale but still shown: published (Site.objects.published()), not fresh.
        "stale": through(published_q(now) & stale_q(now), "sites"),
        "hidden": public & through(hidden_for_staleness_q(now), "sites"),
        # No figure of any offer type (sale price, rent, ground rent), and not on request.
        "missing_price": public
        & Q(
            sites__price_eur_m2__isnull=True,
            sites__rent_eur_m2_month__isnull=True,
            sites__ground_rent_eur_m2_year__isnull=True,
            sites__price_on_request=False,
        ),
        "missing_net_area": public & Q(sites__net_area_m2__isnull=True),
        "missing_available_from": public & Q(sites__available_from__isnull=True),
        "missing_contact_email": public & Q(sites__contact_email=""),
        "missing_photos": public & ~Q(has_photo),
    }
    # Annotation names must not clash with the reverse relation `sites`.
    municipalities = (
        Municipality.objects.order_by("name")
        .annotate(
            **{
                f"n_{column}": Count("sites", filter=condition)
                for column, condition in conditions.items()
            }
        )
        .values("name", "ags", *(f"n_{column}" for column in COUNT_COLUMNS))
    )
    return [
        HealthRow(
            name=row["name"],
            ags=row["ags"],
            counts={column: row[f"n_{column}"] for column in COUNT_COLUMNS},
        )
        for row in municipalities
    ]


def region_total(rows: list[HealthRow]) -> HealthRow:
    return HealthRow(
        name=str(_("Ruhr metropolitan area")),
        ags="",
        counts={column: sum(row.counts[column] for row in rows) for column in COUNT_COLUMNS},
    )


def _sorted(rows: list[HealthRow], key: str) -> list[HealthRow]:
    descending = key.startswith("-")
    column = key.removeprefix("-")
    if column == "name":
        return sorted(rows, key=lambda row: row.name, reverse=descending)
    if column == "sites":
        return sorted(rows, key=lambda row: (row.counts["sites"], row.name), reverse=descending)
    # Shares; municipalities without sites last either way.
    with_sites = [row for row in rows if row.counts["sites"]]
    without = [row for row in rows if not row.counts["sites"]]
    return (
        sorted(with_sites, key=lambda row: (row.share(column) or 0.0, row.name), reverse=descending)
        + without
    )


@staff_required
def data_health(request: HttpRequest) -> HttpResponse:
    """Staff: freshness and completeness of the sites, per municipality (sortable)."""
    sort = request.GET.get("sort", "name")
    if sort.removeprefix("-") not in SORT_KEYS:
        sort = "name"
    rows = data_health_rows()
    columns = [
        {
            "key": column,
            "label": COLUMN_LABELS[column],
            "sort": f"-{column}" if sort == column else column,
            "current": sort.removeprefix("-") == column,
            "descending": sort == f"-{column}",
        }
        for column in COUNT_COLUMNS
    ]
    return render(
        request,
        "properties/staff_data_health.html",
        {
            "rows": _sorted(rows, sort),
            "total": region_total(rows),
            "columns": columns,
            "sort": sort,
            "name_sort": "-name" if sort == "name" else "name",
            "stale_after_days": settings.SITE_STALE_AFTER_DAYS,
            "hide_after_days": settings.SITE_HIDE_AFTER_DAYS,
        },
    )


# --- the review queue ----------------------------------------------------------------------

REVIEW_PAGE_SIZE = 200


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def review_queue(request: HttpRequest) -> HttpResponse:
    """Staff: the sites submitted for publication, oldest first; publish the selected ones,
    or send them back with one reason (all or nothing)."""
    user = gated_user(request)
    errors: list[str] = []
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        ids = [int(v) for v in request.POST.getlist("site") if v.isdigit()]
        try:
            result = sites_review(
                site_ids=ids,
                decision=request.POST.get("decision", ""),
                acting_user=user,
                reason=reason,
            )
        except (ValidationError, PermissionDenied) as error:
            errors = list(getattr(error, "messages", [str(error)]))
        else:
            count = len(result.sites)
            if result.decision == "publish":
                text = ngettext(
                    "%(count)d site is published.", "%(count)d sites are published.", count
                )
            else:
                text = ngettext(
                    "%(count)d site was sent back to its partner.",
                    "%(count)d sites were sent back to their partners.",
                    count,
                )
            messages.success(request, text % {"count": count})
            response = redirect(reverse("staff_review_queue"))
            response.status_code = 303
            return response
    now = timezone.now()
    queue = Site.objects.to_review().select_related("municipality", "organisation")
    total = queue.count()
    rows = [
        {
            "site": site,
            "area": area_pair(site),
            "waiting_days": (now - site.submitted_at).days,
        }
        for site in queue[:REVIEW_PAGE_SIZE]
    ]
    return render(
        request,
        "properties/staff_review_queue.html",
        {
            "rows": rows,
            "total": total,
            "errors": errors,
            "reason": reason,
            "selected": set(request.POST.getlist("site")),
            "shown_of": gettext("the %(shown)d oldest of %(total)d")
            % {"shown": len(rows), "total": total}
            if total > len(rows)
            else "",
        },
        status=400 if errors else 200,
    )
