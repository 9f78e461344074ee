"""An inquiry in words, the same everywhere: the requirement profile as labelled lines
(e-mails, the inquiry's page, the personal-data export's reader), as one line (inbox,
dashboard), and durations as staff read them. Numbers and units follow the active
language through properties.presentation."""

from __future__ import annotations

import datetime

from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from properties.models import Site
from properties.presentation import area_range, km, offer_types_text

from .matching import inquiry_wanted
from .models import Inquiry

# (model field, label) of the maximum distances, in the form's order.
DISTANCE_LABELS = (
    ("max_distance_junction_m", gettext_lazy("Motorway junction")),
    ("max_distance_station_m", gettext_lazy("Railway station")),
    ("max_distance_airport_m", gettext_lazy("Airport")),
    ("max_distance_port_m", gettext_lazy("Port")),
    ("max_distance_university_m", gettext_lazy("University")),
)


def kinds_text(kinds: list[str]) -> str:
    labels = dict(Site.Kind.choices)
    return ", ".join(str(labels.get(kind, kind)) for kind in kinds)


def planning_text(categories: list[str]) -> str:
    labels = dict(Site.PlanningCategory.choices)
    return ", ".join(str(labels.get(c, c)) for c in categories)


def _municipality_names(inquiry: Inquiry) -> list[str]:
    # .all() so that a prefetch (inbox, dashboard) is used; sorted here, not in SQL.
    return sorted(m.name for m in inquiry.municipalities.all()) if inquiry.pk else []


def requirement_rows(inquiry: Inquiry, *, complete: bool = False) -> list[tuple[str, str]]:
    """The requirement profile as (label, value) lines in the active language: what the
    inquiry states, or with `complete` also what it leaves open ("any kind") and the
    must-have criteria of the matching (for staff)."""
    rows: list[tuple[str, str]] = []

    def add(label: str, value: str, open_value: str = "") -> None:
        if value:
            rows.append((label, value))
        elif complete:
            rows.append((label, open_value or "–"))

    add(_("Kind of site"), kinds_text(inquiry.kinds), _("any kind"))
    add(_("Offer type"), offer_types_text(inquiry.offer_types or []), _("any offer type"))
    add(_("Area"), area_range(inquiry.area_min_m2, inquiry.area_max_m2))
    add(_("Planning category"), planning_text(inquiry.planning_categories), _("any category"))
    if inquiry.budget_max_eur_m2 is not None:
        price = number_format(inquiry.budget_max_eur_m2, 2, force_grouping=True)
        add(_("Budget"), _("at most %(price)s €/m²") % {"price": price})
    add(
        _("Needed by"),
        date_format(inquiry.available_by) if inquiry.available_by else "",
        _("no deadline"),
    )
    add(
        _("Preferred municipalities"),
        ", ".join(_municipality_names(inquiry)),
        _("anywhere in the region"),
    )
    if inquiry.area_of_interest is not None:
        km2 = number_format(inquiry.area_of_interest.area / 1_000_000, 1, force_grouping=True)
        add(_("Area drawn on the map"), _("about %(km2)s km²") % {"km2": km2})
    for field, label in DISTANCE_LABELS:
        metres = getattr(inquiry, field)
        if metres is not None:
            add(str(label), _("at most %(distance)s") % {"distance": km(metres)})
    if inquiry.needs_rail_siding:
        add(_("Rail siding"), _("needed"))
    if inquiry.needs_port_access:
        add(_("Port access"), _("needed"))
    if inquiry.jobs_planned is not None:
        add(_("Jobs planned"), number_format(inquiry.jobs_planned, 0, force_grouping=True))
    if inquiry.industry:
        add(_("Industry"), inquiry.industry)
    if complete:
        # Only those the inquiry states: an unstated must-have ("port access") decides nothing.
        add(
            _("Must-have criteria"),
            ", ".join(label for _c, label, _wanted, hard in inquiry_wanted(inquiry) if hard),
        )
    return [(str(label), str(value)) for label, value in rows]


def requirement_summary(inquiry: Inquiry) -> str:
    """One line of the requirement profile (no person): kinds, offer types, area, places."""
    parts = [kinds_text(inquiry.kinds) or _("any kind")]
    if inquiry.offer_types:
        parts.append(offer_types_text(inquiry.offer_types))
    area = area_range(inquiry.area_min_m2, inquiry.area_max_m2)
    if area:
        parts.append(area)
    names = _municipality_names(inquiry)
    if names:
        shown = names[:3]
        more = len(names) - len(shown)
        parts.append(", ".join(shown) + (f" +{more}" if more else ""))
    elif inquiry.area_of_interest is not None:
        parts.append(_("drawn area"))
    return " · ".join(parts)


def age_text(delta: datetime.timedelta) -> str:
    """A duration as staff read it: "2 d 4 h", "5 h 10 min", "12 min"."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}
