"""Typed reads of sites. They build queries; they never write."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal, cast

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db import connections, models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from geodata.layers import DISTANCE_FIELDS

if TYPE_CHECKING:
    from accounts.models import User

# Statuses an investor may see: published, plus reserved (shown as such, still of interest).
PUBLIC_STATUSES = ("published", "reserved")

# Broadband levels and restriction classes in ascending order ("at least" / "at most").
BROADBAND_LEVELS = ("none", "basic", "fast", "gigabit")
RESTRICTION_LEVELS = ("none", "light", "severe")

PriceOnRequest = Literal["include", "only", "exclude"]
Number = float | Decimal

# The comparable figure of each offer type: the filter/sort key, its column, the offer type.
PRICE_FIGURES: dict[str, tuple[str, str]] = {
    "price": ("price_eur_m2", "sale"),  # sale price per m²
    "rent": ("rent_eur_m2_month", "rent"),  # monthly rent per m²
    "ground_rent": ("ground_rent_eur_m2_year", "leasehold"),  # yearly ground rent per m²
}

# Sort keys of `sorted_by`: the main ordering; every key ends with an id tie-break.
_FIXED_SORT_ORDERINGS: dict[str, tuple[models.OrderBy, ...]] = {
    "newest": (F("created_at").desc(), F("id").desc()),
    "area": (F("gross_area_m2").asc(), F("id").asc()),
    "-area": (F("gross_area_m2").desc(), F("id").desc()),
}
for _key, (_column, _offer) in PRICE_FIGURES.items():
    _FIXED_SORT_ORDERINGS[_key] = (F(_column).asc(nulls_last=True), F("id").asc())
    _FIXED_SORT_ORDERINGS["-" + _key] = (F(_column).desc(nulls_last=True), F("id").desc())


def distance_sort_key(field_name: str) -> str:
    """`distance_to_junction_m` -> `distance_junction`: the sort key of a distance column."""
    return "distance_" + field_name.removeprefix("distance_to_").removesuffix("_m")


SORT_ORDERINGS: dict[str, tuple[models.OrderBy, ...]] = _FIXED_SORT_ORDERINGS | {
    distance_sort_key(name): (F(name).asc(nulls_last=True), F("id").asc())
    for name in DISTANCE_FIELDS
}


def stale_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """Sites last verified before this moment are stale (SITE_STALE_AFTER_DAYS)."""
    return (now or timezone.now()) - datetime.timedelta(days=settings.SITE_STALE_AFTER_DAYS)


def hidden_before(now: datetime.datetime | None = None) -> datetime.datetime:
    """Sites last verified before this moment are hidden from investors
    (SITE_HIDE_AFTER_DAYS); the sites tile SQL uses the same cut-off."""
    return (now or timezone.now()) - datetime.timedelta(days=settings.SITE_HIDE_AFTER_DAYS)


def _verified_before(cutoff: datetime.datetime) -> Q:
    """Last verified before `cutoff`; a site never verified counts from when it was added
    (the same as COALESCE(last_verified_at, created_at) < cutoff)."""
    return Q(last_verified_at__lt=cutoff) | Q(last_verified_at__isnull=True, created_at__lt=cutoff)


def _verified_since(cutoff: datetime.datetime) -> Q:
    return Q(last_verified_at__gte=cutoff) | Q(
        last_verified_at__isnull=True, created_at__gte=cutoff
    )


def published_q(now: datetime.datetime | None = None) -> Q:
    """Shown to investors: a public status, and verified within SITE_HIDE_AFTER_DAYS. The
    one definition of "published": `published()`, `published_sql()` (the raw-SQL tiles and
    aggregates) and, through `through()`, the counts per municipality all derive from it."""
    return Q(status__in=PUBLIC_STATUSES) & _verified_since(hidden_before(now))


def stale_q(now: datetime.datetime | None = None) -> Q:
    return _verified_before(stale_before(now))


def hidden_for_staleness_q(now: datetime.datetime | None = None) -> Q:
    return _verified_before(hidden_before(now))


def fresh_q(now: datetime.datetime | None = None) -> Q:
    return _verified_since(stale_before(now))


def through(condition: Q, relation: str) -> Q:
    """A condition on sites, for sites reached through `relation` from another model, e.g.
    `Count("sites", filter=through(published_q(), "sites"))` on municipalities."""
    children: list[Any] = []
    for child in condition.children:
        if isinstance(child, Q):
            children.append(through(child, relation))
        else:
            lookup, value = cast(tuple[str, object], child)
            children.append((f"{relation}__{lookup}", value))
    return Q.create(
        children,
        connector=condition.connector,
        negated=condition.negated,
    )


# The geometry columns of a site: the drawn one and those the database derives from it.
SITE_GEOMETRY_FIELDS = ("geom", "location", "geom_web", "location_web")


class SiteQuerySet(models.QuerySet):
    def published(self, now: datetime.datetime | None = None) -> SiteQuerySet:
        """Sites shown to investors and the public: published or reserved, and not hidden
        for staleness (verified within SITE_HIDE_AFTER_DAYS). Tiles, search, API, exports
        and alerts all read through here (raw SQL through `published_sql()`)."""
        return self.filter(published_q(now))

    def published_sql(
        self, alias: str, now: datetime.datetime | None = None
    ) -> tuple[str, dict[str, Any]]:
        """`published()` as a WHERE fragment for raw SQL over the sites table aliased
        `alias` (the sites tiles, the cluster aggregates), with named parameters
        (`published_0`, …). Compiled from the queryset's own WHERE clause, so the rule is
        written once, in `published_q`."""
        query = self.published(now).query
        sql, params = query.get_compiler(self.db).compile(query.where)
        if len(query.alias_map) != 1 or "%%" in sql:
            raise ValueError("published() must stay a condition on the sites table alone")
        table = connections[self.db].ops.quote_name(self.model._meta.db_table)
        names = [f"published_{index}" for index in range(len(params))]
        parts = sql.replace(f"{table}.", f"{alias}.").split("%s")
        named = parts[0] + "".join(
            f"%({name})s{part}" for name, part in zip(names, parts[1:], strict=True)
        )
        return named, dict(zip(names, params, strict=True))

    def visible_to(self, user: User | None) -> SiteQuerySet:
        """What a user may see: public sites, plus everything they may edit (their own
        stale sites too, so they can verify them)."""
        if user is None or not user.is_authenticated:
            return self.published()
        if user.is_agency_staff:
            return self.all()
        if user.is_partner:
            return self.filter(published_q() | Q(municipality__in=_partner_municipalities(user)))
        return self.published()

    # Freshness: when an editor last confirmed the site is current (site_verify).

    def stale(self, now: datetime.datetime | None = None) -> SiteQuerySet:
        """Sites not verified for SITE_STALE_AFTER_DAYS (the hidden ones included)."""
        return self.filter(stale_q(now))

    def hidden_for_staleness(self, now: datetime.datetime | None = None) -> SiteQuerySet:
        """Sites not verified for SITE_HIDE_AFTER_DAYS: investors no longer see them."""
        return self.filter(hidden_for_staleness_q(now))

    def fresh(self, now: datetime.datetime | None = None) -> SiteQuerySet:
        """Sites verified within SITE_STALE_AFTER_DAYS."""
        return self.filter(fresh_q(now))

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
        """Sites within `metres` of a geometry in any SRID (ST_DWithin on EPSG:25832; the
        geometry is transformed in SQL)."""
        return self.filter(geom__dwithin=(geom, metres))

    def intersecting(self, geom: GEOSGeometry) -> SiteQuerySet:
        """Sites intersecting a geometry in any SRID, e.g. an area drawn on the map."""
        return self.filter(geom__intersects=geom)

    # Attribute filters of the investor search. Each takes already validated values.

    def of_kinds(self, kinds: Iterable[str]) -> SiteQuerySet:
        return self.filter(kind__in=list(kinds))

    def of_statuses(self, statuses: Iterable[str]) -> SiteQuerySet:
        return self.filter(status__in=list(statuses))

    def gross_area_at_least(self, m2: Number) -> SiteQuerySet:
        return self.filter(gross_area_m2__gte=m2)

    def gross_area_at_most(self, m2: Number) -> SiteQuerySet:
        return self.filter(gross_area_m2__lte=m2)

    def offered_as(self, offer_types: Iterable[str]) -> SiteQuerySet:
        """Sites offered in any of these ways (sale, rent, leasehold)."""
        return self.filter(offer_types__overlap=list(offer_types))

    def commission_free(self) -> SiteQuerySet:
        return self.filter(commission_free=True)

    def priced(
        self,
        *,
        minimum: Number | None = None,
        maximum: Number | None = None,
        on_request: PriceOnRequest | None = None,
        figure: str = "price",
    ) -> SiteQuerySet:
        """Sites by one comparable figure of `PRICE_FIGURES` (default the sale price €/m²;
        "rent": monthly rent €/m²; "ground_rent": yearly ground rent €/m²).

        A range keeps sites whose figure lies in it (sites without it drop out).
        `on_request`: "include" also keeps sites offered that way that show no figure (on
        request or not given) next to the range; "only" keeps just the sites whose price is
        on request; "exclude" drops them. Without a range, "include" changes nothing.
        """
        column, offer = PRICE_FIGURES[figure]
        in_range = Q()
        if minimum is not None:
            in_range &= Q(**{f"{column}__gte": minimum})
        if maximum is not None:
            in_range &= Q(**{f"{column}__lte": maximum})
        if on_request == "only":
            return self.filter(in_range, price_on_request=True)
        if on_request == "exclude":
            return self.filter(in_range, price_on_request=False)
        if on_request == "include" and in_range:
            no_figure = Q(price_on_request=True) | Q(**{f"{column}__isnull": True})
            return self.filter(in_range | (Q(offer_types__contains=[offer]) & no_figure))
        return self.filter(in_range)

    def with_planning_categories(self, categories: Iterable[str]) -> SiteQuerySet:
        return self.filter(planning_category__in=list(categories))

    def with_bplan_statuses(self, statuses: Iterable[str]) -> SiteQuerySet:
        return self.filter(bplan_status__in=list(statuses))

    def available_by(self, day: datetime.date) -> SiteQuerySet:
        """Sites available on `day`: no date given (available now) or a date up to it."""
        return self.filter(Q(available_from__isnull=True) | Q(available_from__lte=day))

    def with_ownership(self, ownerships: Iterable[str]) -> SiteQuerySet:
        # "public", the code before municipal and other public bodies were told apart (saved
        # searches and links still carry it), means either of them.
        codes = set(ownerships)
        if "public" in codes:
            codes |= {"municipal", "other_public"}
        return self.filter(ownership__in=sorted(codes))

    def divisible(self) -> SiteQuerySet:
        return self.filter(is_divisible=True)

    def offering_part_of_at_least(self, m2: Number) -> SiteQuerySet:
        """Sites that can provide a part of at least `m2`: a divisible site its largest part
        (its gross area if no largest part is given), any other site its gross area."""
        return self.filter(
            Q(is_divisible=True, max_divisible_m2__gte=m2)
            | Q(is_divisible=True, max_divisible_m2__isnull=True, gross_area_m2__gte=m2)
            | Q(is_divisible=False, gross_area_m2__gte=m2)
        )

    def offering_part_of_at_most(self, m2: Number) -> SiteQuerySet:
        """Sites where a part of at most `m2` can be had: a divisible site's smallest part,
        or the whole site, is no larger."""
        return self.filter(
            Q(is_divisible=True, min_divisible_m2__lte=m2) | Q(gross_area_m2__lte=m2)
        )

    def in_municipalities(self, ags: Iterable[str]) -> SiteQuerySet:
        """Sites in the municipalities with these 8-digit AGS."""
        return self.filter(municipality__ags__in=list(ags))

    def in_districts(self, keys: Iterable[str]) -> SiteQuerySet:
        """Sites in the districts (Kreise, kreisfreie Städte) with these 5-digit keys."""
        return self.filter(municipality__district__ags__in=list(keys))

    def with_rail_siding(self) -> SiteQuerySet:
        return self.filter(has_rail_siding=True)

    def with_port_access(self) -> SiteQuerySet:
        return self.filter(has_port_access=True)

    def broadband_at_least(self, level: str) -> SiteQuerySet:
        """Sites with this broadband level or better (none < basic < fast < gigabit)."""
        return self.filter(broadband__in=BROADBAND_LEVELS[BROADBAND_LEVELS.index(level) :])

    def with_restriction_classes(self, classes: Iterable[str]) -> SiteQuerySet:
        return self.filter(restriction_class__in=list(classes))

    def restriction_at_most(self, level: str) -> SiteQuerySet:
        """Sites with restrictions of this class or lighter (none < light < severe)."""
        return self.filter(
            restriction_class__in=RESTRICTION_LEVELS[: RESTRICTION_LEVELS.index(level) + 1]
        )

    def within_stored_distance(self, field_name: str, metres: Number) -> SiteQuerySet:
        """Sites whose stored distance column (e.g. `distance_to_junction_m`) is at most
        `metres`: an indexed comparison. Sites whose distance is unknown (NULL) drop out;
        callers check first that the layer has data (`geodata` `LayerFeature.of_layer`)."""
        if field_name not in DISTANCE_FIELDS:
            raise ValueError(f"{field_name!r} is not a stored distance column")
        return self.filter(**{f"{field_name}__lte": metres})

    def sorted_by(self, key: str) -> SiteQuerySet:
        """Sites in a deterministic order: `newest` (default), `area`, `-area`, `price`,
        `-price`, `rent`, `-rent`, `ground_rent`, `-ground_rent` (sites without that figure
        last), or `distance_<layer>` (e.g.
        `distance_station`, `distance_junction`; nearest first, unknown distances last);
        ties broken by id."""
        return self.order_by(*SORT_ORDERINGS[key])

    def to_review(self) -> SiteQuerySet:
        """Sites submitted for publication, waiting for staff: oldest submission first
        (annotated `submitted_at`, the time of the last "submitted" history entry, else
        the last change)."""
        from .models import SiteChange

        submitted = (
            SiteChange.objects.filter(site_id=OuterRef("pk"), action=SiteChange.Action.SUBMITTED)
            .order_by("-changed_at")
            .values("changed_at")[:1]
        )
        return (
            self.filter(status="submitted")
            .annotate(submitted_at=Coalesce(Subquery(submitted), F("updated_at")))
            .order_by("submitted_at", "id")
        )

    def demo(self) -> SiteQuerySet:
        return self.filter(is_demo=True)

    def for_listing(self) -> SiteQuerySet:
        """With the municipality (name, AGS) but without the geometry columns a list or a
        page of results does not show: parsing a municipality's outline (thousands of
        vertices) and a site's four geometries cost more than the rest of the row. A list
        that draws sites annotates `Transform("geom", 4326)`, computed in SQL."""
        return self.select_related("municipality").defer(
            *SITE_GEOMETRY_FIELDS, "municipality__geom", "municipality__centre"
        )


def _partner_municipalities(user: User) -> models.QuerySet:
    from geodata.models import Municipality

    return Municipality.objects.filter(partner_organisations__members=user)
