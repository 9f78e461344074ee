"""Writing a checked upload: every new or changed row in one INSERT … ON CONFLICT, the site
history of each, and the withdrawal of the sites the partner says are gone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _

from accounts.models import PartnerOrganisation
from properties.models import Site

from .checking import NAMES
from .report import MissingSite, UploadError

if TYPE_CHECKING:
    from accounts.models import User


OFFER_FIGURE_FIELDS = (
    "price_eur_m2",
    "price_total_eur",
    "rent_eur_m2_month",
    "ground_rent_eur_m2_year",
)
IMPLIED_OFFER_TYPES = """
    coalesce(nullif(array_remove(ARRAY[
        CASE WHEN s.price_eur_m2 IS NOT NULL OR s.price_total_eur IS NOT NULL THEN 'sale' END,
        CASE WHEN s.rent_eur_m2_month IS NOT NULL THEN 'rent' END,
        CASE WHEN s.ground_rent_eur_m2_year IS NOT NULL THEN 'leasehold' END], NULL), '{}'),
        CASE WHEN s.kind = 'plot' THEN ARRAY['sale'] ELSE ARRAY['rent'] END)::varchar[]
"""


def _snapshot(fields: list[str], prefix: str) -> str:
    """SQL for a JSON object of a site row's fields as the history keeps them (prices as
    text, the geometry as type, area and a hash, like properties.services.sites)."""
    parts = []
    for name in fields:
        value = f"{prefix}{name}"
        if name in (
            "price_eur_m2",
            "price_total_eur",
            "rent_eur_m2_month",
            "ground_rent_eur_m2_year",
            "service_charges_eur_m2_month",
        ):
            value = f"{value}::text"
        parts.append(f"'{name}', to_jsonb({value})")
    geom = f"{prefix}geom"
    parts.append(
        f"'geom', jsonb_build_object('type', substr(ST_GeometryType({geom}), 4), "
        f"'area_m2', round(ST_Area({geom})::numeric, 1), "
        f"'sha256', substr(encode(sha256(ST_AsBinary({geom})), 'hex'), 1, 16))"
    )
    return "jsonb_build_object(" + ", ".join(parts) + ")"


def write(
    cursor,
    organisation: PartnerOrganisation,
    acting_user: User | None,
    fields: dict[str, str],
    filename: str,
    source_name: str,
) -> list[int]:
    """Writes new and changed rows (not the rejected ones) in one statement, bumps the
    version of changed sites, records each in the site history (action "uploaded": the
    fields before and after) and marks every site of the file with its list."""
    names = [name for name in NAMES if name != "partner_ref"]
    updated = [name for name in names if name in fields]
    assignments = ", ".join(f"{name} = EXCLUDED.{name}" for name in updated)
    # The offer types the row's figures imply (properties.services.sites
    # site_offer_types_implied); an update sets them only if the file gives a figure.
    if any(name in fields for name in OFFER_FIGURE_FIELDS):
        assignments += ", offer_types = EXCLUDED.offer_types"
    params = {
        "organisation": organisation.pk,
        "user": acting_user.pk if acting_user else None,
        "reason": _("Upload: %(filename)s") % {"filename": filename},
        "source": source_name,
    }
    # The changed sites as they were, for the history's "before".
    cursor.execute(
        f"""
        CREATE TEMPORARY TABLE upload_before ON COMMIT DROP AS
        SELECT p.id, {_snapshot(updated, "p.")} AS data
        FROM upload_staging s JOIN properties_site p ON p.id = s.site_id
        WHERE s.action = 'update'
        """,
        params,
    )
    cursor.execute(
        f"""
        INSERT INTO properties_site (
            organisation_id, partner_ref, {", ".join(names)}, geom, municipality_id, status,
            is_demo, restrictions, created_at, updated_at, last_verified_at, verified_by_id,
            upload_source, offer_types
        )
        SELECT %(organisation)s, s.partner_ref, {", ".join(f"s.{n}" for n in names)}, s.geom,
               s.municipality_id, 'draft', false, '{{}}', now(), now(), now(), %(user)s,
               %(source)s, {IMPLIED_OFFER_TYPES}
        FROM upload_staging s WHERE s.action IN ('create', 'update') ORDER BY s.row_no
        ON CONFLICT (organisation_id, partner_ref) WHERE partner_ref <> '' DO UPDATE SET
            {assignments}, geom = EXCLUDED.geom, municipality_id = EXCLUDED.municipality_id,
            updated_at = now(), last_verified_at = now(), verified_by_id = EXCLUDED.verified_by_id,
            version = properties_site.version + 1, upload_source = EXCLUDED.upload_source
        RETURNING id
        """,
        params,
    )
    site_ids = [row[0] for row in cursor.fetchall()]
    # Unchanged rows stay untouched, but belong to the list they were uploaded with now.
    cursor.execute(
        """
        UPDATE properties_site p SET upload_source = %(source)s
        FROM upload_staging s
        WHERE s.action = 'unchanged' AND p.id = s.site_id
          AND p.upload_source IS DISTINCT FROM %(source)s
        """,
        params,
    )
    # One history entry per written site: the fields that changed, before and after.
    cursor.execute(
        f"""
        INSERT INTO properties_sitechange
            (site_id, changed_at, changed_by_id, action, reason, before, after, version)
        SELECT n.id, now(), %(user)s, 'uploaded', %(reason)s,
               CASE WHEN b.id IS NULL THEN '{{}}'::jsonb
                    ELSE coalesce((SELECT jsonb_object_agg(key, b.data -> key)
                                   FROM jsonb_object_keys(n.data) key
                                   WHERE b.data -> key IS DISTINCT FROM n.data -> key),
                                  '{{}}'::jsonb) END,
               CASE WHEN b.id IS NULL THEN n.data  -- created: everything is "after"
                    ELSE coalesce((SELECT jsonb_object_agg(key, n.data -> key)
                                   FROM jsonb_object_keys(n.data) key
                                   WHERE b.data -> key IS DISTINCT FROM n.data -> key),
                                  '{{}}'::jsonb) END,
               n.version
        FROM (SELECT p.id, p.version, {_snapshot(updated, "p.")} AS data
              FROM unnest(%(ids)s::integer[]) AS written(id)
              JOIN properties_site p ON p.id = written.id) n
        LEFT JOIN upload_before b ON b.id = n.id
        """,
        {**params, "ids": site_ids},
    )
    cursor.execute("DROP TABLE upload_before")
    return site_ids


# Sites that are gone already are not "missing".
MISSING_STATUSES = (
    Site.Status.DRAFT,
    Site.Status.SUBMITTED,
    Site.Status.PUBLISHED,
    Site.Status.RESERVED,
)


def find_missing(cursor, organisation: PartnerOrganisation, source_name: str) -> list[MissingSite]:
    """The organisation's sites an earlier upload of this list wrote ("" = any uploaded
    site) that this file no longer contains."""
    cursor.execute(
        """
        SELECT p.id, p.partner_ref, p.title, p.status FROM properties_site p
        WHERE p.organisation_id = %(organisation)s AND p.upload_source IS NOT NULL
          AND (%(source)s = '' OR p.upload_source = %(source)s)
          AND p.status = ANY(%(statuses)s) AND p.partner_ref <> ''
          AND NOT EXISTS (SELECT 1 FROM upload_staging s WHERE s.partner_ref = p.partner_ref)
        ORDER BY p.partner_ref, p.id
        """,
        {
            "organisation": organisation.pk,
            "source": source_name,
            "statuses": [str(s) for s in MISSING_STATUSES],
        },
    )
    return [MissingSite(*row) for row in cursor.fetchall()]


def withdraw(
    missing: list[MissingSite], chosen: Iterable[int] | str, acting_user: User | None
) -> list[int]:
    """Withdraws the chosen missing sites through the moderation service (each recorded in
    its history); "all" withdraws every missing site."""
    from properties.services.moderation import site_mark

    by_id = {site.site_id: site for site in missing}
    if chosen == "all":
        ids = list(by_id)
    else:
        ids = []
        for value in chosen:
            try:
                site_id = int(value)
            except (TypeError, ValueError):
                raise UploadError(_("“%(value)s” is not a site id") % {"value": value}) from None
            if site_id not in by_id:
                raise UploadError(
                    _("Site %(id)s is not one of the sites missing from this upload.")
                    % {"id": site_id}
                )
            ids.append(site_id)
    if ids and acting_user is None:
        raise UploadError(_("Withdrawing sites needs a signed-in user."))
    withdrawn = []
    for site in Site.objects.filter(pk__in=ids).order_by("pk"):
        try:
            site_mark(site=site, acting_user=acting_user, status=Site.Status.WITHDRAWN)
        except (PermissionDenied, ValidationError) as exc:
            message = "; ".join(getattr(exc, "messages", [])) or str(exc)
            raise UploadError(
                _("%(site)s cannot be withdrawn: %(reason)s")
                % {"site": site.partner_ref or site.title, "reason": message}
            ) from exc
        withdrawn.append(site.pk)
    return withdrawn
