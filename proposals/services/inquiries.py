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
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from properties.models import Site
from sitefinder.mail import templated_email

from ..models import Inquiry, InquiryEvent
from .timeline import inquiry_event_add

logger = logging.getLogger(__name__)

MAIL_CONFIRMATION = "confirmation"
MAIL_STAFF = "staff"


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
    *, data: dict[str, Any], acting_user: User | None, client_fingerprint: str
) -> Inquiry:
    """Stores a web inquiry (`data`: the model's fields plus `municipalities`), records its
    receipt, and e-mails confirmation and notification after the commit."""
    fields = dict(data)
    municipalities = fields.pop("municipalities", [])
    now = timezone.now()
    inquiry = Inquiry.objects.create(
        **fields,
        channel=Inquiry.Channel.WEB,
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
        text=_("Received through the inquiry form."),
        data={"channel": Inquiry.Channel.WEB},
    )
    inquiry_id = inquiry.pk
    transaction.on_commit(lambda: inquiry_emails_send.enqueue(inquiry_id))
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


def _staff_url(inquiry: Inquiry) -> str:
    return settings.SITE_URL + reverse("inquiry_detail", kwargs={"pk": inquiry.pk})


def _decimals(value: float) -> int:
    """As few decimal places as the value needs, at most two (1 ha, 1.5 ha, 1.25 ha)."""
    for places in (0, 1):
        if round(value, places) == round(value, 2):
            return places
    return 2


def _format_area(m2: float) -> str:
    if m2 >= 10_000:
        hectares = m2 / 10_000
        return f"{formats.number_format(hectares, _decimals(hectares), force_grouping=True)} ha"
    return f"{formats.number_format(round(m2), 0, force_grouping=True)} m²"


def _format_km(metres: float) -> str:
    km = metres / 1000
    return f"{formats.number_format(km, _decimals(km), force_grouping=True)} km"


def inquiry_profile_summary(inquiry: Inquiry) -> list[tuple[str, str]]:
    """The requirement profile as (label, value) lines in the active language; only what
    the inquiry states."""
    lines: list[tuple[str, str]] = []
    if inquiry.kinds:
        labels = dict(Site.Kind.choices)
        lines.append((_("Kind of site"), ", ".join(str(labels.get(k, k)) for k in inquiry.kinds)))
    low, high = inquiry.area_min_m2, inquiry.area_max_m2
    if low is not None and high is not None:
        lines.append((_("Area"), f"{_format_area(low)} – {_format_area(high)}"))
    elif low is not None:
        lines.append((_("Area"), _("at least %(area)s") % {"area": _format_area(low)}))
    elif high is not None:
        lines.append((_("Area"), _("at most %(area)s") % {"area": _format_area(high)}))
    if inquiry.planning_categories:
        labels = dict(Site.PlanningCategory.choices)
        lines.append(
            (
                _("Planning category"),
                ", ".join(str(labels.get(c, c)) for c in inquiry.planning_categories),
            )
        )
    if inquiry.budget_max_eur_m2 is not None:
        budget = formats.number_format(inquiry.budget_max_eur_m2, 2, force_grouping=True)
        lines.append((_("Budget"), _("at most %(price)s €/m²") % {"price": budget}))
    if inquiry.available_by is not None:
        lines.append((_("Needed by"), formats.date_format(inquiry.available_by)))
    if inquiry.pk:
        names = [m.name for m in inquiry.municipalities.order_by("name")]
        if names:
            lines.append((_("Preferred municipalities"), ", ".join(names)))
    if inquiry.area_of_interest is not None:
        km2 = inquiry.area_of_interest.area / 1_000_000
        lines.append(
            (
                _("Area drawn on the map"),
                _("about %(km2)s km²")
                % {"km2": formats.number_format(km2, 1, force_grouping=True)},
            )
        )
    distances = (
        (_("Motorway junction"), inquiry.max_distance_junction_m),
        (_("Railway station"), inquiry.max_distance_station_m),
        (_("Airport"), inquiry.max_distance_airport_m),
        (_("Port"), inquiry.max_distance_port_m),
        (_("University"), inquiry.max_distance_university_m),
    )
    for label, metres in distances:
        if metres is not None:
            lines.append((str(label), _("at most %(km)s") % {"km": _format_km(metres)}))
    if inquiry.needs_rail_siding:
        lines.append((_("Rail siding"), _("needed")))
    if inquiry.needs_port_access:
        lines.append((_("Port access"), _("needed")))
    if inquiry.jobs_planned is not None:
        lines.append(
            (_("Jobs planned"), formats.number_format(inquiry.jobs_planned, 0, force_grouping=True))
        )
    if inquiry.industry:
        lines.append((_("Industry"), inquiry.industry))
    return [(str(label), str(value)) for label, value in lines]


def _confirmation(inquiry: Inquiry) -> Any:
    with translation.override(inquiry.language):
        return templated_email(
            template="proposals/email/inquiry_confirmation",
            context={
                "inquiry": inquiry,
                "summary": inquiry_profile_summary(inquiry),
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
                "summary": inquiry_profile_summary(inquiry),
                "staff_url": _staff_url(inquiry),
            },
            subject=_("sitefinder: new inquiry %(reference)s from %(company)s")
            % {"reference": inquiry.reference, "company": inquiry.company},
            to=address,
        )


def _mails_due(inquiry: Inquiry) -> list[tuple[str, str, str]]:
    """(which, address, language) of every e-mail this inquiry should have sent."""
    due = []
    if inquiry.email and inquiry.anonymised_at is None:
        due.append((MAIL_CONFIRMATION, inquiry.email, inquiry.language))
    due.extend((MAIL_STAFF, address, language) for address, language in staff_recipients())
    return due


@task
def inquiry_emails_send(inquiry_id: int) -> int:
    """Sends the inquiry's e-mails not sent yet; returns how many were sent now. Failures
    become MAIL_FAILED events, never exceptions: the inquiry is stored already."""
    with transaction.atomic():
        # One run at a time per inquiry, so a retry never sends an e-mail twice.
        inquiry = Inquiry.objects.select_for_update().filter(pk=inquiry_id).first()
        if inquiry is None:
            return 0
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
