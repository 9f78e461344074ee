"""Creating and changing sites: the municipality follows from the geometry, distances follow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from geodata.models import Municipality, Region
from properties.models import Site

from .proximity import sites_refresh_distances

if TYPE_CHECKING:
    from django.contrib.gis.geos import GEOSGeometry

    from accounts.models import User


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


@transaction.atomic
def site_save(
    *, site: Site, acting_user: User | None, fields: dict[str, Any] | None = None
) -> Site:
    """Creates or updates a site: applies `fields`, derives the municipality from the
    geometry, validates the whole site, saves it and refreshes its stored distances."""
    for name, value in (fields or {}).items():
        setattr(site, name, value)
    geometry_changed = site.pk is None or "geom" in (fields or {}) or site.municipality_id is None
    if geometry_changed:
        site.municipality = site_municipality_for(site.geom)
    site.full_clean(exclude=["location", "geom_web", "location_web", "geom_area_m2"])
    site.save()
    if geometry_changed:
        sites_refresh_distances(site_ids=[site.pk])
        site.refresh_from_db()
    return site
