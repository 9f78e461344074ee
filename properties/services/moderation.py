"""Moderation of sites: who may move a site from which status to which, and the e-mails
about staff decisions.

    draft ──submit──▶ submitted ──publish (staff)──▶ published ──mark──▶ reserved / sold / withdrawn
      ▲                  │                              ▲    │
      └──send back (staff, with a reason)───────────────┘    └── reserved ──mark──▶ published

Transition table (partner = a member of a partner organisation of the site's
municipality, i.e. the site is in `Site.objects.editable_by(partner)`; staff = agency
staff, who may do everything a partner may and more):

    from        to          service              partner  staff
    draft       submitted   site_submit          yes      yes
    submitted   published   site_publish         -        yes
    submitted   draft       site_send_back       -        yes   (reason required)
    published   draft       site_send_back       -        yes   (reason required)
    reserved    draft       site_send_back       -        yes   (reason required)
    sold        draft       site_send_back       -        yes   (reason required)
    withdrawn   draft       site_send_back       -        yes   (reason required)
    published   reserved    site_mark            yes      yes
    published   sold        site_mark            yes      yes
    published   withdrawn   site_mark            yes      yes
    draft       withdrawn   site_mark            yes      yes
    submitted   withdrawn   site_mark            yes      yes
    reserved    published   site_mark            yes      yes   (the reservation lapsed)
    reserved    sold        site_mark            yes      yes
    reserved    withdrawn   site_mark            yes      yes
    any         (same)      site_verify          yes      yes   ("still current", one click)

Nobody publishes a draft directly: every site is submitted first and published by staff.
Sold and withdrawn sites come back only through staff (sent back to draft, then submitted
again). Investors and partners of other municipalities change nothing (PermissionDenied).

Each transition locks the site's row, raises its `version` (an editor's form loaded before
gets a conflict in `site_save`), and writes a `SiteChange`. Publishing and sending back
e-mail the site's partner organisation (its address and each member, in the member's
language) after the commit: a failing mail server is logged and never undoes a decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import PartnerOrganisation, User
from properties.models import Site, SiteChange
from sitefinder.mail import templated_email

from .sites import site_history_record

logger = logging.getLogger("sitefinder.properties.moderation")

Status = Site.Status
# E-mails to an organisation's own address: its members' language is unknown there.
ORGANISATION_LANGUAGE = "de"


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    action: str
    partner_may: bool


TRANSITIONS: tuple[Transition, ...] = (
    Transition(Status.DRAFT, Status.SUBMITTED, SiteChange.Action.SUBMITTED, True),
    # A site that is no longer offered (e.g. gone from the partner's re-uploaded list) can
    # be withdrawn before it was published too.
    Transition(Status.DRAFT, Status.WITHDRAWN, SiteChange.Action.WITHDRAWN, True),
    Transition(Status.SUBMITTED, Status.WITHDRAWN, SiteChange.Action.WITHDRAWN, True),
    Transition(Status.SUBMITTED, Status.PUBLISHED, SiteChange.Action.PUBLISHED, False),
    *(
        Transition(source, Status.DRAFT, SiteChange.Action.SENT_BACK, False)
        for source in (
            Status.SUBMITTED,
            Status.PUBLISHED,
            Status.RESERVED,
            Status.SOLD,
            Status.WITHDRAWN,
        )
    ),
    *(
        Transition(Status.PUBLISHED, target, SiteChange.Action(target), True)
        for target in (Status.RESERVED, Status.SOLD, Status.WITHDRAWN)
    ),
    Transition(Status.RESERVED, Status.PUBLISHED, SiteChange.Action.PUBLISHED, True),
    Transition(Status.RESERVED, Status.SOLD, SiteChange.Action.SOLD, True),
    Transition(Status.RESERVED, Status.WITHDRAWN, SiteChange.Action.WITHDRAWN, True),
)
_BY_STATUSES = {(t.source, t.target): t for t in TRANSITIONS}
MARK_STATUSES = (Status.PUBLISHED, Status.RESERVED, Status.SOLD, Status.WITHDRAWN)


def site_allowed_transitions(*, site: Site, user: User | None) -> list[Transition]:
    """What `user` may do with `site` now (e.g. to show the buttons)."""
    if user is None or not Site.objects.editable_by(user).filter(pk=site.pk).exists():
        return []
    return [
        t
        for t in TRANSITIONS
        if t.source == site.status and (t.partner_may or user.is_agency_staff)
    ]


def _status_label(status: str) -> str:
    return str(Status(status).label)


def _locked_editable(site: Site, user: User | None) -> Site:
    locked = (
        Site.objects.editable_by(user).select_for_update(of=("self",)).filter(pk=site.pk).first()
    )
    if locked is None:
        raise PermissionDenied(
            _("You may not change “%(site)s”: it is not a site of your municipality.")
            % {"site": site.title}
        )
    return locked


def _transition(
    *, site: Site, acting_user: User | None, target: str, reason: str = ""
) -> tuple[Site, Transition]:
    locked = _locked_editable(site, acting_user)
    if acting_user is None:  # unreachable: editable_by(None) is empty
        raise PermissionDenied
    transition = _BY_STATUSES.get((locked.status, target))
    if transition is None:
        if target == Status.PUBLISHED and locked.status == Status.DRAFT:
            message = _("From “%(source)s” a site cannot be published directly; submit it first.")
        else:
            message = _("A site cannot go from “%(source)s” to “%(target)s”.")
        raise ValidationError(
            {
                "status": message
                % {"source": _status_label(locked.status), "target": _status_label(target)}
            }
        )
    if not transition.partner_may and not acting_user.is_agency_staff:
        if transition.action == SiteChange.Action.SENT_BACK:
            raise PermissionDenied(_("Only agency staff can send a site back."))
        raise PermissionDenied(_("Only agency staff can publish a submitted site."))

    before = {"status": locked.status, "status_reason": locked.status_reason}
    locked.status = target
    locked.status_reason = reason
    locked.version += 1
    locked.save(update_fields=["status", "status_reason", "version", "updated_at"])
    after = {"status": locked.status, "status_reason": locked.status_reason}
    changed = [name for name in before if before[name] != after[name]]
    site_history_record(
        site=locked,
        acting_user=acting_user,
        action=transition.action,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
        reason=reason,
    )
    # The caller's instance shows the new state too.
    for name in ("status", "status_reason", "version", "updated_at"):
        setattr(site, name, getattr(locked, name))
    return locked, transition


@transaction.atomic
def site_submit(*, site: Site, acting_user: User | None) -> Site:
    """A partner (or staff) hands a draft to staff for publication."""
    locked, _transition_done = _transition(
        site=site, acting_user=acting_user, target=Status.SUBMITTED
    )
    return locked


@transaction.atomic
def site_publish(*, site: Site, acting_user: User | None) -> Site:
    """Staff publish a submitted site; its partner is e-mailed."""
    locked, _transition_done = _transition(
        site=site, acting_user=acting_user, target=Status.PUBLISHED
    )
    _email_after_commit(locked, SiteChange.Action.PUBLISHED, reason="")
    return locked


@transaction.atomic
def site_send_back(*, site: Site, acting_user: User | None, reason: str) -> Site:
    """Staff send a site back to draft, saying why; its partner is e-mailed the reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"status_reason": _("Say why the site is sent back; the partner reads it.")}
        )
    locked, _transition_done = _transition(
        site=site, acting_user=acting_user, target=Status.DRAFT, reason=reason
    )
    _email_after_commit(locked, SiteChange.Action.SENT_BACK, reason=reason)
    return locked


@transaction.atomic
def site_mark(*, site: Site, acting_user: User | None, status: str) -> Site:
    """Marks a published site reserved, sold or withdrawn (or a reserved one published
    again when the reservation lapsed)."""
    if status not in MARK_STATUSES:
        raise ValidationError(
            {
                "status": _("“%(status)s” is not a status a site can be marked with.")
                % {"status": status}
            }
        )
    locked, _transition_done = _transition(site=site, acting_user=acting_user, target=status)
    return locked


@transaction.atomic
def site_verify(*, site: Site, acting_user: User | None) -> Site:
    """An editor confirms with one click that the site is still current. Leaves the
    content, `updated_at` and the version alone (no conflict for others, no alert)."""
    locked = _locked_editable(site, acting_user)
    before = locked.last_verified_at
    locked.last_verified_at = timezone.now()
    locked.verified_by = acting_user
    locked.save(update_fields=["last_verified_at", "verified_by"])
    site_history_record(
        site=locked,
        acting_user=acting_user,
        action=SiteChange.Action.VERIFIED,
        before={"last_verified_at": before.isoformat() if before else None},
        after={"last_verified_at": locked.last_verified_at.isoformat()},
    )
    site.last_verified_at = locked.last_verified_at
    site.verified_by = acting_user
    return locked


# --- e-mails -----------------------------------------------------------------------------


def _partner_organisations(site: Site) -> list[PartnerOrganisation]:
    """The site's own organisation, or else those of its municipality."""
    if site.organisation_id is not None:
        return [site.organisation] if site.organisation else []
    return list(PartnerOrganisation.objects.filter(municipalities=site.municipality_id))


def decision_recipients(site: Site) -> list[tuple[str, str]]:
    """(address, language) of everyone e-mailed about a decision on `site`: each active
    member of its partner organisation(s) in their language, and each organisation's own
    address; every address once."""
    organisations = _partner_organisations(site)
    recipients: dict[str, str] = {}
    members = User.objects.filter(
        organisation__in=organisations, is_active=True, role=User.Role.PARTNER
    ).exclude(email="")
    for member in members.order_by("pk"):
        recipients.setdefault(member.email.lower(), member.language)
    for organisation in organisations:
        if organisation.email:
            recipients.setdefault(organisation.email.lower(), ORGANISATION_LANGUAGE)
    return list(recipients.items())


def _site_url(site: Site) -> str:
    try:
        path = reverse("site_detail", kwargs={"pk": site.pk})
    except NoReverseMatch:
        path = "/"
    return settings.SITE_URL + path


def _decision_message(site: Site, action: str, reason: str, to: str, language: str):
    with translation.override(language):
        context = {
            "site": site,
            "action": action,
            "published": action == SiteChange.Action.PUBLISHED,
            "reason": reason,
            "site_url": _site_url(site),
        }
        if action == SiteChange.Action.PUBLISHED:
            subject = _("sitefinder: “%(title)s” is published") % {"title": site.title}
        else:
            subject = _("sitefinder: “%(title)s” was sent back") % {"title": site.title}
        message = templated_email(
            template="properties/email/decision",
            context=context,
            subject=subject,
            to=to,
        )
    return message


def site_decision_emails_send(*, site_id: int, action: str, reason: str) -> int:
    """E-mails a decision to the site's partner, one e-mail per recipient; returns how many
    were sent. Failures are logged, never raised: the decision stands."""
    site = Site.objects.select_related("municipality", "organisation").filter(pk=site_id).first()
    if site is None:
        return 0
    sent = 0
    for address, language in decision_recipients(site):
        try:
            _decision_message(site, action, reason, address, language).send()
        except Exception:
            logger.exception("decision e-mail on site %s to %s failed", site_id, address)
        else:
            sent += 1
    return sent


def _email_after_commit(site: Site, action: str, *, reason: str) -> None:
    site_id = site.pk
    transaction.on_commit(
        lambda: site_decision_emails_send(site_id=site_id, action=action, reason=reason)
    )


REVIEW_DECISIONS = ("publish", "send_back")


@dataclass(frozen=True)
class ReviewResult:
    decision: str
    sites: list[Site]


@transaction.atomic
def sites_review(
    *, site_ids: list[int], decision: str, acting_user: User | None, reason: str = ""
) -> ReviewResult:
    """Staff's bulk decision on submitted sites: publish them all, or send them all back
    with one reason. All or nothing: a site that cannot take the step (no longer
    submitted, not found) refuses the whole batch with a ValidationError naming it, and
    nothing changes. Each site goes through `site_publish` / `site_send_back` (history,
    version, the partner's e-mail after the commit)."""
    if decision not in REVIEW_DECISIONS:
        raise ValidationError({"decision": _("Choose to publish or to send back.")})
    if not site_ids:
        raise ValidationError({"site": _("Select at least one site.")})
    reason = (reason or "").strip()
    if decision == "send_back" and not reason:
        raise ValidationError(
            {"reason": _("Say why the sites are sent back; their partners read it.")}
        )
    found = {
        site.pk: site
        for site in Site.objects.editable_by(acting_user)
        .select_for_update(of=("self",))
        .filter(pk__in=site_ids)
    }
    missing = [str(pk) for pk in site_ids if pk not in found]
    if missing:
        raise ValidationError(
            {"site": _("No such site to review: %(ids)s.") % {"ids": ", ".join(missing)}}
        )
    waiting = [site for site in found.values() if site.status != Status.SUBMITTED]
    if waiting:
        raise ValidationError(
            {
                "site": _("Not waiting for review any more: %(titles)s.")
                % {"titles": ", ".join(f"“{site.title}”" for site in waiting)}
            }
        )
    done = []
    for pk in dict.fromkeys(site_ids):
        if decision == "publish":
            done.append(site_publish(site=found[pk], acting_user=acting_user))
        else:
            done.append(site_send_back(site=found[pk], acting_user=acting_user, reason=reason))
    return ReviewResult(decision=decision, sites=done)
