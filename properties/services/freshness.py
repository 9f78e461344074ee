"""Freshness of sites: the weekly digest to partner organisations.

A site is stale when no editor has confirmed it as current (`site_verify`) for
SITE_STALE_AFTER_DAYS, and hidden from investors after SITE_HIDE_AFTER_DAYS
(`Site.objects.stale()`, `.hidden_for_staleness()`, `.published()`). Only sites investors
would see otherwise (published, reserved) are reported: a draft's age hides nothing.

`freshness_digest_send` (the `send_freshness_digest` command, run weekly by cron) e-mails
each partner organisation with stale sites one digest: to each active partner member, in
their language, listing the sites hidden now and those about to be hidden (with the date).
An `accounts.DigestLog` row per organisation and run makes it safe to run again: an
organisation mailed within the last DIGEST_INTERVAL is skipped. Each organisation is handled
in its own transaction holding its row lock, so two runs at once do not both mail it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import ngettext

from accounts.models import PartnerOrganisation, User
from properties.models import DigestLog, Site
from properties.querysets import PUBLIC_STATUSES, SiteQuerySet
from sitefinder.mail import templated_email

logger = logging.getLogger("sitefinder.properties.freshness")

# Weekly by cron; a run a day early (or twice) still sends nothing twice.
DIGEST_INTERVAL = datetime.timedelta(days=6)
# The partner dashboard's planned path, should its URL not be wired (yet).
DASHBOARD_PATH = "/partner/"


@dataclass
class StaleSite:
    site: Site
    last_verified_at: datetime.datetime
    hidden_on: datetime.date  # the day it is (or was) hidden from investors


@dataclass
class OrganisationDigest:
    organisation: PartnerOrganisation
    hidden: list[StaleSite] = field(default_factory=list)
    stale: list[StaleSite] = field(default_factory=list)  # stale, still shown

    @property
    def is_empty(self) -> bool:
        return not self.hidden and not self.stale


def organisation_sites(organisation: PartnerOrganisation) -> SiteQuerySet:
    """The sites an organisation's members edit: those of its municipalities."""
    return Site.objects.filter(municipality__in=organisation.municipalities.all())


def freshness_digest_for(
    organisation: PartnerOrganisation, *, now: datetime.datetime | None = None
) -> OrganisationDigest:
    """The stale public sites of an organisation: hidden ones, and those still shown with
    the date they will be hidden."""
    now = now or timezone.now()
    digest = OrganisationDigest(organisation=organisation)
    sites = (
        organisation_sites(organisation)
        .filter(status__in=PUBLIC_STATUSES)
        .stale(now)
        .select_related("municipality")
        .order_by("last_verified_at", "created_at", "pk")
    )
    hidden_ids = set(sites.hidden_for_staleness(now).values_list("pk", flat=True))
    hide_after = datetime.timedelta(days=settings.SITE_HIDE_AFTER_DAYS)
    for site in sites:
        reference = site.last_verified_at or site.created_at
        entry = StaleSite(
            site=site,
            last_verified_at=reference,
            hidden_on=timezone.localdate(reference + hide_after),
        )
        (digest.hidden if site.pk in hidden_ids else digest.stale).append(entry)
    return digest


def freshness_digest_send(*, now: datetime.datetime | None = None) -> int:
    """E-mails every partner organisation with stale sites its digest, unless it had one
    within DIGEST_INTERVAL; returns the number of e-mails sent."""
    now = now or timezone.now()
    organisation_ids = list(PartnerOrganisation.objects.values_list("pk", flat=True))
    sent = 0
    for organisation_id in organisation_ids:
        try:
            sent += _digest_send_for(organisation_id, now=now)
        except Exception:
            # One broken organisation must not stop the others; the next run tries again.
            logger.exception("freshness digest of organisation %s failed", organisation_id)
    return sent


@transaction.atomic
def _digest_send_for(organisation_id: int, *, now: datetime.datetime) -> int:
    organisation = (
        PartnerOrganisation.objects.select_for_update(skip_locked=True)
        .filter(pk=organisation_id)
        .first()
    )
    if organisation is None:
        return 0  # another run holds it
    if DigestLog.objects.filter(
        organisation=organisation, sent_at__gt=now - DIGEST_INTERVAL
    ).exists():
        return 0
    digest = freshness_digest_for(organisation, now=now)
    if digest.is_empty:
        return 0
    members = (
        User.objects.filter(organisation=organisation, role=User.Role.PARTNER, is_active=True)
        .exclude(email="")
        .order_by("pk")
    )
    sent = 0
    for member in members:
        try:
            _digest_message(digest, member).send()
        except Exception:
            logger.exception(
                "freshness digest of organisation %s to %s failed", organisation.pk, member.pk
            )
        else:
            sent += 1
    if sent:
        DigestLog.objects.create(
            organisation=organisation,
            sent_at=now,
            stale_count=len(digest.stale),
            hidden_count=len(digest.hidden),
        )
    return sent


def _dashboard_path() -> str:
    try:
        return reverse("partner_dashboard")
    except NoReverseMatch:
        return DASHBOARD_PATH


def _digest_message(digest: OrganisationDigest, member: User) -> EmailMultiAlternatives:
    with translation.override(member.language):
        context = {
            "organisation": digest.organisation,
            "hidden": digest.hidden,
            "stale": digest.stale,
            "dashboard_url": settings.SITE_URL + _dashboard_path(),
            "stale_after_days": settings.SITE_STALE_AFTER_DAYS,
            "hide_after_days": settings.SITE_HIDE_AFTER_DAYS,
        }
        count = len(digest.hidden) + len(digest.stale)
        subject = ngettext(
            "sitefinder: %(count)d site of %(organisation)s needs confirming",
            "sitefinder: %(count)d sites of %(organisation)s need confirming",
            count,
        ) % {"count": count, "organisation": digest.organisation.name}
        message = templated_email(
            template="properties/email/freshness_digest",
            context=context,
            subject=subject,
            to=member.email,
        )
    return message
