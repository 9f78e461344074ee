"""Creating and changing sites: the municipality follows from the geometry, distances follow.

Every change is written to the site's history (`SiteChange`): who, when, and the changed
fields' values before and after. Two editors saving the same site: `site_save` with the
`expected_version` the editor's form was loaded at refuses a save over a newer version with
`SiteConflict`, naming what the other editor changed, by whom and when; nothing is written.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from geodata.layers import DISTANCE_FIELDS
from geodata.models import Municipality, Region
from properties.models import Site, SiteChange

from .proximity import sites_refresh_distances

if TYPE_CHECKING:
    from accounts.models import User

# Fields the history leaves out: derived by the database or the proximity service, or
# bookkeeping of the history itself.
UNTRACKED_FIELDS = frozenset(
    {
        "id",
        "location",
        "geom_web",
        "location_web",
        "geom_area_m2",
        "distances_computed_at",
        "created_at",
        "updated_at",
        "version",
        *DISTANCE_FIELDS,
    }
)
GEOMETRY_TOLERANCE_M = 0.001
TRACKED_FIELDS: tuple[models.Field, ...] = tuple(
    f for f in Site._meta.concrete_fields if f.name not in UNTRACKED_FIELDS
)
TRACKED_BY_NAME: dict[str, models.Field] = {f.name: f for f in TRACKED_FIELDS}


def site_municipality_for(geom: GEOSGeometry) -> Municipality:
    """The municipality a site lies in: where most of its area (or its point) falls."""
    if geom.srid is None:
        raise ValidationError({"geom": _("The geometry has no coordinate system.")})
    if not geom.valid:
        raise ValidationError(
            {"geom": _("The geometry is not valid: %(reason)s") % {"reason": geom.valid_reason}}
        )
    municipality = Municipality.objects.containing(geom).first()
    if municipality is None:
        region = Region.objects.first()
        where = region.name if region else _("the region")
        raise ValidationError({"geom": _("The site lies outside %(region)s.") % {"region": where}})
    return municipality


# --- history -----------------------------------------------------------------------------


def _geometry_summary(geom: GEOSGeometry | None) -> dict[str, Any] | None:
    """A geometry as the history keeps it: its area (m², EPSG:25832) and a hash of it."""
    if geom is None:
        return None
    if geom.srid and geom.srid != Site._meta.get_field("geom").srid:
        geom = geom.transform(Site._meta.get_field("geom").srid, clone=True)
    return {
        "type": geom.geom_type,
        "area_m2": round(geom.area, 1),
        "sha256": hashlib.sha256(bytes(geom.wkb)).hexdigest()[:16],
    }


def _history_value(site: Site, field: models.Field) -> Any:
    """A field's value as JSON the history stores and shows: names for related objects,
    decimals as text, geometries summarised."""
    if field.name == "geom":
        return _geometry_summary(site.geom)
    if isinstance(field, models.ForeignKey):
        related = getattr(site, field.name) if getattr(site, field.attname) is not None else None
        return str(related) if related is not None else None
    value = getattr(site, field.attname)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _geometries_equal(old: GEOSGeometry | None, new: GEOSGeometry | None) -> bool:
    if old is None or new is None:
        return old is new
    if new.srid and old.srid and new.srid != old.srid:
        new = new.transform(old.srid, clone=True)
    # A millimetre (EPSG:25832 is in metres): a geometry sent back in another SRID, e.g.
    # from the map in EPSG:4326, is not a change because of rounding.
    return old.equals_exact(new, tolerance=GEOMETRY_TOLERANCE_M)


def site_changed_fields(old: Site, new: Site) -> list[str]:
    """The tracked fields whose values differ between two states of a site."""
    changed = []
    for field in TRACKED_FIELDS:
        if field.name == "geom":
            if not _geometries_equal(old.geom, new.geom):
                changed.append("geom")
        elif getattr(old, field.attname) != getattr(new, field.attname):
            changed.append(field.name)
    return changed


def site_history_record(
    *,
    site: Site,
    acting_user: User | None,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> SiteChange:
    """Writes one history entry of `site` at its current version (used by the services)."""
    return SiteChange.objects.create(
        site=site,
        changed_by=acting_user if acting_user is not None and acting_user.pk else None,
        action=action,
        reason=reason,
        before=before or {},
        after=after or {},
        version=site.version,
    )


# --- conflicts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConcurrentChange:
    """A field another editor changed since a form was loaded."""

    field: str
    label: str
    before: Any
    after: Any
    changed_by: str
    changed_at: datetime.datetime
    action: str


class SiteConflict(ValidationError):
    """The site was changed since the editor loaded it at `expected_version`.

    `changes` lists what the other editors changed (oldest first), so a form can show them
    next to the editor's own values; `current_version` is the version to reload."""

    def __init__(
        self, *, site: Site, expected_version: int, current_version: int, changes: list
    ) -> None:
        self.site = site
        self.expected_version = expected_version
        self.current_version = current_version
        self.changes: list[ConcurrentChange] = changes
        by_whom = []
        for change in changes:
            who = _("%(user)s on %(when)s") % {
                "user": change.changed_by,
                "when": date_format(localtime(change.changed_at), "DATETIME_FORMAT"),
            }
            if who not in by_whom:
                by_whom.append(who)
        labels = list(dict.fromkeys(change.label for change in changes))
        message = _(
            "This site was changed by %(who)s while you were editing it (%(fields)s). "
            "Nothing of yours was saved: reload the site, check these changes and "
            "enter yours again."
        ) % {
            "who": ", ".join(by_whom) or _("someone else"),
            "fields": ", ".join(labels) or _("its status"),
        }
        super().__init__({NON_FIELD_ERRORS: [ValidationError(message, code="conflict")]})


def site_field_label(name: str) -> str:
    """A site field's name as people read it ("price (€/m²)")."""
    field = TRACKED_BY_NAME.get(name)
    return str(field.verbose_name) if field is not None else name


def site_changes_since(*, site: Site, version: int) -> list[ConcurrentChange]:
    """The field changes recorded for `site` after `version`, oldest first."""
    rows = (
        SiteChange.objects.filter(site=site, version__gt=version)
        .select_related("changed_by")
        .order_by("changed_at", "id")
    )
    changes = []
    for row in rows:
        who = (row.changed_by.get_full_name() or row.changed_by.username) if row.changed_by else ""
        for name in row.changed_fields:
            changes.append(
                ConcurrentChange(
                    field=name,
                    label=site_field_label(name),
                    before=row.before.get(name),
                    after=row.after.get(name),
                    changed_by=who or _("the system"),
                    changed_at=row.changed_at,
                    action=row.action,
                )
            )
    return changes


# --- saving ------------------------------------------------------------------------------


@transaction.atomic
def site_offer_types_implied(site: Site) -> list[str]:
    """The offer types a site's stated figures imply (a sale price: sale, a rent: rent, a
    ground rent: leasehold); without any, the usual one of its kind: plots are sold, premises
    let (the same rule migration 0008 applied to the sites before offer types existed)."""
    implied = [
        offer
        for offer, figures in (
            (Site.OfferType.SALE, (site.price_eur_m2, site.price_total_eur)),
            (Site.OfferType.RENT, (site.rent_eur_m2_month,)),
            (Site.OfferType.LEASEHOLD, (site.ground_rent_eur_m2_year,)),
        )
        if any(figure is not None for figure in figures)
    ]
    if implied:
        return [str(offer) for offer in implied]
    return [Site.OfferType.SALE if site.kind == Site.Kind.PLOT else Site.OfferType.RENT]


def site_save(
    *,
    site: Site,
    acting_user: User | None,
    fields: dict[str, Any] | None = None,
    expected_version: int | None = None,
    action: str | None = None,
) -> Site:
    """Creates or updates a site: applies `fields`, derives the municipality from the
    geometry, validates the whole site, saves it and refreshes its stored distances.

    The change is written to the site's history (`action`: "created"/"updated" by default,
    e.g. "uploaded" for the partner upload), with the changed fields before and after; a
    save that changes nothing writes no entry and keeps the version.

    `expected_version`: the version the editor's form was loaded at. If the site has been
    changed since, raises `SiteConflict` (a ValidationError) listing those changes, and
    writes nothing. Without it, the save goes through (last write wins, but is recorded).
    """
    for name, value in (fields or {}).items():
        setattr(site, name, value)
    if not site.offer_types:
        site.offer_types = site_offer_types_implied(site)
    current: Site | None = None
    if site.pk is not None:
        # The row lock makes the version check and the history's "before" exact: another
        # save of this site waits here until this one has committed, then sees its version
        # (the same guarantee as UPDATE … WHERE id = %s AND version = %s).
        current = Site.objects.select_for_update(of=("self",)).filter(pk=site.pk).first()
    if current is not None and expected_version is not None and current.version != expected_version:
        raise SiteConflict(
            site=current,
            expected_version=expected_version,
            current_version=current.version,
            changes=site_changes_since(site=current, version=expected_version),
        )
    geometry_changed = (
        current is None
        or "geom" in (fields or {})
        or site.municipality_id is None
        or not _geometries_equal(current.geom, site.geom)
    )
    if geometry_changed:
        site.municipality = site_municipality_for(site.geom)
    site.full_clean(exclude=["location", "geom_web", "location_web", "geom_area_m2", "version"])

    if current is None:
        site.version = 1
        site.save()
        site_history_record(
            site=site,
            acting_user=acting_user,
            action=action or SiteChange.Action.CREATED,
            after={f.name: _history_value(site, f) for f in TRACKED_FIELDS},
        )
    else:
        changed = site_changed_fields(current, site)
        site.version = current.version + 1 if changed else current.version
        site.save()
        if changed:
            site_history_record(
                site=site,
                acting_user=acting_user,
                action=action or SiteChange.Action.UPDATED,
                before={name: _history_value(current, TRACKED_BY_NAME[name]) for name in changed},
                after={name: _history_value(site, TRACKED_BY_NAME[name]) for name in changed},
            )
    if geometry_changed:
        sites_refresh_distances(site_ids=[site.pk])
        site.refresh_from_db()
    return site
