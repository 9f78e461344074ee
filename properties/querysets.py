"""Typed reads of sites. They build queries; they never write."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User

# Statuses an investor may see: published, plus reserved (shown as such, still of interest).
PUBLIC_STATUSES = ("published", "reserved")


class SiteQuerySet(models.QuerySet):
    def published(self) -> SiteQuerySet:
        """Sites shown to investors and the public."""
        return self.filter(status__in=PUBLIC_STATUSES)

    def visible_to(self, user: User | None) -> SiteQuerySet:
        """What a user may see: public sites, plus everything they may edit."""
        if user is None or not user.is_authenticated:
            return self.published()
        if user.is_agency_staff:
            return self.all()
        if user.is_partner:
            return self.filter(
                Q(status__in=PUBLIC_STATUSES) | Q(municipality__in=_partner_municipalities(user))
            )
        return self.published()

    def editable_by(self, user: User | None) -> SiteQuerySet:
        """Sites a user may change: staff all, a partner those of its municipalities."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.is_agency_staff:
            return self.all()
        if user.is_partner:
            return self.filter(municipality__in=_partner_municipalities(user))
        return self.none()

    def in_bbox(self, bbox: Polygon) -> SiteQuerySet:
        """Sites intersecting a bounding box given in any SRID (transformed in SQL)."""
        return self.filter(geom__intersects=bbox)

    def within_distance(self, geom: GEOSGeometry, metres: float) -> SiteQuerySet:
        return self.filter(geom__dwithin=(geom, metres))

    def demo(self) -> SiteQuerySet:
        return self.filter(is_demo=True)


def _partner_municipalities(user: User) -> models.QuerySet:
    from geodata.models import Municipality

    return Municipality.objects.filter(partner_organisations__members=user)
