"""Receiving an inquiry: store it, then e-mail the investor a confirmation and staff a
notification, in the background.

The inquiry and its RECEIVED event are committed before any e-mail is tried; the e-mails run
as a task (`inquiry_emails_send`) enqueued after the commit. A failing mail server loses
nothing: each e-mail sent or failed is an event on the inquiry's timeline, and running the
task again sends only the e-mails without a MAIL_SENT event."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import logging
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from properties.models import Site
from sitefinder.mail import templated_email

from ..models import Inquiry, InquiryEvent
from ..presentation import requirement_rows
from .matching import inquiry_match_count_refresh_task
from .timeline import inquiry_event_add

logger = logging.getLogger(__name__)

MAIL_CONFIRMATION = "confirmation"
MAIL_STAFF = "staff"
MAIL_PARTNER = "partner"


def client_fingerprint(remote_addr: str) -> str:
    """A keyed hash of the sender's address: enough to count, never the address itself."""
    return hmac.new(
        settings.SECRET_KEY.encode(), (remote_addr or "").encode(), hashlib.sha256
    ).hexdigest()


def inquiry_rate_limit_reached(
    *, client_fingerprint: str, now: datetime.datetime | None = None
) -> bool:
    """True if this sender sent `INQUIRY_RATE_LIMIT_PER_HOUR` inquiries in the last hour."""
    since = (now or timezone.now()) - datetime.timedelta(hours=1)
    recent = Inquiry.objects.filter(client_fingerprint=client_fingerprint, received_at__gte=since)
    return recent.count() >= settings.INQUIRY_RATE_LIMIT_PER_HOUR


@transaction.atomic
def inquiry_create(
    *,
    data: dict[str, Any],
    acting_user: User | None,
    client_fingerprint: str,
    site: Site | None = None,
) -> Inquiry:
    """Stores a web inquiry (`data`: the model's fields plus `municipalities`), records its
    receipt, and e-mails confirmation and notification after the commit. With `site` it is
    a question about that site ("ask about this site"): the site's partner is told too."""
    fields = dict(data)
    municipalities = fields.pop("municipalities", [])
    now = timezone.now()
    channel = Inquiry.Channel.SITE if site is not None else Inquiry.Channel.WEB
    inquiry = Inquiry.objects.create(
        **fields,
        site=site,
        channel=channel,
        user=acting_user,
        received_at=now,
        privacy_accepted_at=now,
        client_fingerprint=client_fingerprint,
    )
    inquiry.municipalities.set(municipalities)
    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.RECEIVED,
        actor=acting_user,
        text=(
            _("Received through “Ask about this site” on %(site)s.") % {"site": site.title}
            if site is not None
            else _("Received through the inquiry form.")
        ),
        data={"channel": channel, **({"site": site.pk} if site is not None else {})},
    )
    inquiry_id = inquiry.pk
    transaction.on_commit(lambda: inquiry_emails_send.enqueue(inquiry_id))
    # How many sites fit, for the inbox and the dashboard's unmet demand.
    transaction.on_commit(lambda: inquiry_match_count_refresh_task.enqueue(inquiry_id))
    return inquiry


def inquiry_emails_retry(*, inquiry: Inquiry, acting_user: User | None) -> None:
    """Tries again the e-mails of an inquiry that were not sent (those sent stay sent)."""
    logger.info(
        "inquiry %s: e-mails retried by %s", inquiry.pk, acting_user.pk if acting_user else "-"
    )
    inquiry_id = inquiry.pk
    transaction.on_commit(lambda: inquiry_emails_send.enqueue(inquiry_id))


# --- the e-mails ----------------------------------------------------------------------------


def staff_recipients() -> list[tuple[str, str]]:
    """(address, language) of whoever is told of new inquiries: the configured addresses,
    else every active staff member with an address, each in their own language."""
    staff = User.objects.filter(is_active=True).filter(
        Q(role=User.Role.STAFF) | Q(is_superuser=True)
    )
    if settings.INQUIRY_NOTIFY_EMAILS:
        languages = {
            email.lower(): language
            for email, language in staff.exclude(email="").values_list("email", "language")
        }
        return [
            (address, languages.get(address.lower(), settings.LANGUAGE_CODE[:2]))
            for address in settings.INQUIRY_NOTIFY_EMAILS
        ]
    recipients: dict[str, str] = {}
    for email, language in staff.exclude(email="").order_by("pk").values_list("email", "language"):
        recipients.setdefault(email.lower(), language)
    return list(recipients.items())


def partner_recipients(inquiry: Inquiry) -> list[tuple[str, str]]:
    """(address, language) of the partner organisation that owns the inquiry's site: its
    active users with an address, each in their own language (none for other inquiries)."""
    site = inquiry.site
    if site is None or site.organisation_id is None:
        return []
    users = User.objects.filter(
        is_active=True, role=User.Role.PARTNER, organisation_id=site.organisation_id
    ).exclude(email="")
    recipients: dict[str, str] = {}
    for email, language in users.order_by("pk").values_list("email", "language"):
        recipients.setdefault(email.lower(), language)
    return list(recipients.items())


def _site_url(inquiry: Inquiry) -> str:
    if inquiry.site_id is None:
        return ""
    return settings.SITE_URL + reverse("site_detail", kwargs={"pk": inquiry.site_id})


def _partner_notification(inquiry: Inquiry, address: str, language: str) -> Any:
    with translation.override(language):
        return templated_email(
            template="proposals/email/inquiry_partner",
            context={"inquiry": inquiry, "site_url": _site_url(inquiry)},
            subject=_("sitefinder: a question about your site “%(site)s”")
            % {"site": inquiry.site.title if inquiry.site else ""},
            to=address,
        )


def _staff_url(inquiry: Inquiry) -> str:
    return settings.SITE_URL + reverse("inquiry_detail", kwargs={"pk": inquiry.pk})


def _confirmation(inquiry: Inquiry) -> Any:
    with translation.override(inquiry.language):
        return templated_email(
            template="proposals/email/inquiry_confirmation",
            context={
                "inquiry": inquiry,
                "summary": requirement_rows(inquiry),
                "response_hours": settings.INQUIRY_RESPONSE_HOURS,
            },
            subject=_("sitefinder: your inquiry %(reference)s") % {"reference": inquiry.reference},
            to=inquiry.email,
        )


def _staff_notification(inquiry: Inquiry, address: str, language: str) -> Any:
    with translation.override(language):
        return templated_email(
            template="proposals/email/inquiry_staff",
            context={
                "inquiry": inquiry,
                "summary": requirement_rows(inquiry),
                "staff_url": _staff_url(inquiry),
                "site_url": _site_url(inquiry),
            },
            subject=_("sitefinder: new inquiry %(reference)s from %(company)s")
            % {"reference": inquiry.reference, "company": inquiry.company},
            to=address,
        )


def _mails_due(inquiry: Inquiry) -> list[tuple[str, str, str]]:
    """(which, address, language) of every e-mail this inquiry should have sent."""
    due = []
    if inquiry.email:
        due.append((MAIL_CONFIRMATION, inquiry.email, inquiry.language))
    due.extend((MAIL_STAFF, address, language) for address, language in staff_recipients())
    due.extend(
        (MAIL_PARTNER, address, language) for address, language in partner_recipients(inquiry)
    )
    return due


@task
def inquiry_emails_send(inquiry_id: int) -> int:
    """Sends the inquiry's e-mails not sent yet; returns how many were sent now. Failures
    become MAIL_FAILED events, never exceptions: the inquiry is stored already."""
    with transaction.atomic():
        # One run at a time per inquiry, so a retry never sends an e-mail twice.
        inquiry = (
            Inquiry.objects.select_for_update(of=("self",))
            .select_related("site")
            .filter(pk=inquiry_id)
            .first()
        )
        if inquiry is None or inquiry.anonymised_at is not None:
            return 0  # deleted, or erased before the worker came to it: nobody to write about
        sent_before = {
            (event.data.get("mail"), str(event.data.get("to", "")).lower())
            for event in inquiry.events.filter(kind=InquiryEvent.Kind.MAIL_SENT)
        }
        sent = 0
        for which, address, language in _mails_due(inquiry):
            if (which, address.lower()) in sent_before:
                continue
            try:
                if which == MAIL_CONFIRMATION:
                    message = _confirmation(inquiry)
                elif which == MAIL_PARTNER:
                    message = _partner_notification(inquiry, address, language)
                else:
                    message = _staff_notification(inquiry, address, language)
                message.send()
            except Exception as error:  # any failure of rendering or sending is recorded
                logger.warning("inquiry %s: %s e-mail to %s failed", inquiry.pk, which, address)
                inquiry_event_add(
                    inquiry=inquiry,
                    kind=InquiryEvent.Kind.MAIL_FAILED,
                    text=f"{type(error).__name__}: {error}"[:1000],
                    data={"mail": which, "to": address, "error": str(error)[:1000]},
                )
                continue
            inquiry_event_add(
                inquiry=inquiry,
                kind=InquiryEvent.Kind.MAIL_SENT,
                text=address,
                data={"mail": which, "to": address},
            )
            sent_before.add((which, address.lower()))
            sent += 1
    return sent
