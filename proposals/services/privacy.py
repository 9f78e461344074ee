"""An inquiry's personal data: exported for the person on request, erased on request or
after the retention period (`anonymise_inquiries`). What stays is the anonymous requirement
profile and the dates, for the statistics of demand."""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ..models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from .timeline import inquiry_event_add

logger = logging.getLogger(__name__)

ERASED = "[erased]"
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Shorter strings (initials, "AG") would blank out unrelated words of the timeline.
MIN_REPLACED_LENGTH = 3
# Legal forms left off a company's name to find it in free text ("Rhein Logistik").
LEGAL_FORMS = re.compile(
    r"[\s,]+(?:gmbh\s*&\s*co\.?\s*kg|gmbh|ag|kg|ohg|se|ug|e\.?\s?k\.?|ltd\.?|limited|inc\.?"
    r"|llc|plc|corp\.?|b\.?v\.?|n\.?v\.?|s\.?a\.?|sp\.?\s?z\s?o\.?\s?o\.?|a\.?ş\.?)$",
    re.IGNORECASE,
)
# Words of a contact's name that are not the name: never replaced on their own.
NAME_PARTICLES = frozenset(
    {"herr", "frau", "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "prof", "prof."}
    | {"von", "van", "der", "den", "de", "la", "le", "di", "da", "del", "und", "and"}
)
# A phone number's digits are found whatever the separators and the country prefix.
PHONE_MIN_DIGITS = 6
# Timeline entries whose text is the person's own words or staff's words about the person:
# erased whole (the fact of the entry stays), not only scrubbed of known strings.
FREE_TEXT_EVENTS = frozenset({InquiryEvent.Kind.NOTE, InquiryEvent.Kind.RESPONSE})


def _iso(value: datetime.datetime | datetime.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _requirements(inquiry: Inquiry) -> dict[str, Any]:
    area = None
    if inquiry.area_of_interest is not None:
        area = inquiry.area_of_interest.transform(4326, clone=True).json
    return {
        "kinds": list(inquiry.kinds),
        "area_min_m2": inquiry.area_min_m2,
        "area_max_m2": inquiry.area_max_m2,
        "planning_categories": list(inquiry.planning_categories),
        "budget_max_eur_m2": (
            str(inquiry.budget_max_eur_m2) if inquiry.budget_max_eur_m2 is not None else None
        ),
        "available_by": _iso(inquiry.available_by),
        "municipalities": [m.name for m in inquiry.municipalities.order_by("name")],
        "area_of_interest_geojson": area,
        "max_distance_junction_m": inquiry.max_distance_junction_m,
        "max_distance_station_m": inquiry.max_distance_station_m,
        "max_distance_airport_m": inquiry.max_distance_airport_m,
        "max_distance_port_m": inquiry.max_distance_port_m,
        "max_distance_university_m": inquiry.max_distance_university_m,
        "needs_rail_siding": inquiry.needs_rail_siding,
        "needs_port_access": inquiry.needs_port_access,
        "jobs_planned": inquiry.jobs_planned,
        "industry": inquiry.industry,
        "source_query": inquiry.source_query,
    }


def _timeline_entry(event: InquiryEvent) -> dict[str, Any]:
    entry: dict[str, Any] = {"at": _iso(event.at), "kind": event.kind, "text": event.text}
    # Who of the staff was assigned is about staff, not the person: left out.
    if event.data and event.kind != InquiryEvent.Kind.ASSIGNED:
        entry["data"] = event.data
    return entry


def inquiry_personal_data(*, inquiry: Inquiry) -> dict[str, Any]:
    """Everything sitefinder holds about the person behind an inquiry, JSON-safe: contact
    details, message and consent, the linked account, the requirement profile, the
    timeline, the offers made with their links (and when they were opened) and the
    investor's responses."""
    user = inquiry.user
    offers = (
        Offer.objects.filter(inquiry=inquiry)
        .prefetch_related("items__site", "links")
        .order_by("created_at", "id")
    )
    return {
        "reference": inquiry.reference,
        "exported_at": _iso(timezone.now()),
        "received_at": _iso(inquiry.received_at),
        "channel": inquiry.channel,
        "language": inquiry.language,
        "status": inquiry.status,
        "first_offer_sent_at": _iso(inquiry.first_offer_sent_at),
        "closed_at": _iso(inquiry.closed_at),
        "anonymised_at": _iso(inquiry.anonymised_at),
        "contact": {
            "company": inquiry.company,
            "contact_name": inquiry.contact_name,
            "email": inquiry.email,
            "phone": inquiry.phone,
            "message": inquiry.message,
            "privacy_accepted_at": _iso(inquiry.privacy_accepted_at),
        },
        "account": (
            {
                "username": user.get_username(),
                "name": user.get_full_name(),
                "email": user.email,
                "language": user.language,
            }
            if user is not None
            else None
        ),
        "requirements": _requirements(inquiry),
        "timeline": [_timeline_entry(event) for event in inquiry.events.order_by("at", "id")],
        "offers": [
            {
                "title": offer.title,
                "language": offer.language,
                "introduction": offer.introduction,
                "created_at": _iso(offer.created_at),
                "sent_at": _iso(offer.sent_at),
                "sites": [
                    {
                        "site": item.site.title,
                        "site_id": item.site_id,
                        "note": item.note,
                        "response": item.response,
                        "response_comment": item.response_comment,
                        "responded_at": _iso(item.responded_at),
                    }
                    for item in offer.items.all()
                ],
                "links": [
                    {
                        "recipient_email": link.recipient_email,
                        "created_at": _iso(link.created_at),
                        "expires_at": _iso(link.expires_at),
                        "revoked_at": _iso(link.revoked_at),
                        "first_opened_at": _iso(link.first_opened_at),
                        "last_opened_at": _iso(link.last_opened_at),
                        "open_count": link.open_count,
                    }
                    for link in offer.links.all()
                ],
            }
            for offer in offers
        ],
    }


@transaction.atomic
def inquiry_export(*, inquiry: Inquiry, acting_user: User) -> dict[str, Any]:
    """The personal data for handing out; the export itself goes on the timeline."""
    data = inquiry_personal_data(inquiry=inquiry)
    inquiry_event_add(inquiry=inquiry, kind=InquiryEvent.Kind.EXPORTED, actor=acting_user)
    return data


def _phone_pattern(phone: str) -> str | None:
    """A pattern for the number whatever its spelling: "+49 201 1234567", "0201/123 45 67"
    and "00492011234567" are one number."""
    digits = re.sub(r"\D", "", phone)
    if phone.strip().startswith(("+", "00")):
        digits = digits.removeprefix("00")
        if digits.startswith("49"):  # other countries' codes stay part of the number
            digits = digits[2:]
    digits = digits.removeprefix("0")  # the trunk prefix, also written "+49 (0)201"
    if len(digits) < PHONE_MIN_DIGITS:
        return None
    separated = r"[\s/().-]*".join(digits)
    return rf"(?:(?:\+|00)\d{{1,3}}[\s/().-]*(?:\(0\)[\s/-]*)?|0)?{separated}"


class _Scrubber:
    """Replaces the person's strings, their phone number and e-mail addresses in free text,
    whole words only; the addresses of `kept_emails` (staff's, not the person's) stay."""

    def __init__(
        self, values: Iterable[str], *, phones: Iterable[str] = (), kept_emails: Iterable[str] = ()
    ) -> None:
        words = sorted(
            {v.strip() for v in values if v and len(v.strip()) >= MIN_REPLACED_LENGTH},
            key=len,
            reverse=True,  # the longest first: "Max Muster GmbH" before "Max Muster"
        )
        alternatives = [re.escape(word) for word in words]
        alternatives += [p for p in (_phone_pattern(phone) for phone in phones if phone) if p]
        self.pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", re.IGNORECASE)
            if alternatives
            else None
        )
        self.kept_emails = {email.lower() for email in kept_emails if email}

    def _email(self, match: re.Match[str]) -> str:
        return match.group(0) if match.group(0).lower() in self.kept_emails else ERASED

    def text(self, value: str) -> str:
        # Addresses first: "erika.m@example.com" is one address, not a name and a rest.
        value = EMAIL_PATTERN.sub(self._email, value)
        if self.pattern is not None:
            value = self.pattern.sub(ERASED, value)
        return value

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        return value


def _name_variants(inquiry: Inquiry) -> list[str]:
    """The person's strings as they may appear in free text: the company also without its
    legal form, the contact's name also word by word ("Frau Mustermann")."""
    values = [inquiry.company, inquiry.contact_name, inquiry.email]
    company = inquiry.company.strip()
    while LEGAL_FORMS.search(company):
        company = LEGAL_FORMS.sub("", company).strip()
    values.append(company)
    values += [word for word in inquiry.contact_name.split() if word.lower() not in NAME_PARTICLES]
    if inquiry.user is not None:
        values += [inquiry.user.email, inquiry.user.get_full_name()]
        values += [inquiry.user.first_name, inquiry.user.last_name]
    values += list(
        OfferLink.objects.filter(offer__inquiry=inquiry).values_list("recipient_email", flat=True)
    )
    return values


def _staff_emails() -> set[str]:
    """Addresses of agency staff (and the configured notification addresses): the
    timeline's record of staff's own e-mails is not the person's data, and it is what
    keeps the inquiry's e-mail task from notifying staff again."""
    staff = User.objects.filter(Q(role=User.Role.STAFF) | Q(is_superuser=True)).exclude(email="")
    return set(staff.values_list("email", flat=True)) | set(settings.INQUIRY_NOTIFY_EMAILS)


def _erased_event(event: InquiryEvent, scrub: _Scrubber) -> tuple[str, dict[str, Any]]:
    data = scrub.data(event.data or {})
    written_by_hand = event.kind in FREE_TEXT_EVENTS and not (
        # The matching's must-have criteria are recorded as a note, in generated words.
        event.kind == InquiryEvent.Kind.NOTE and "hard_criteria" in data
    )
    return ("" if written_by_hand else scrub.text(event.text)), data


@transaction.atomic
def inquiry_erase(*, inquiry: Inquiry, acting_user: User | None, reason: str) -> Inquiry:
    """Erases the personal data of an inquiry everywhere it was copied: contact fields, the
    account link, notes and personal details in the timeline, the offers' texts and
    exposés, the links' recipients, the investor's comments and the admin's change log;
    every link is revoked. The requirement profile and the dates stay. `acting_user`
    None: the retention rule."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give a reason for erasing the personal data."))
    # `of`: FOR UPDATE cannot lock the nullable side of the join to the account.
    inquiry = (
        Inquiry.objects.select_for_update(of=("self",)).select_related("user").get(pk=inquiry.pk)
    )
    if inquiry.anonymised_at is not None:
        raise ValidationError(
            _("The personal data of this inquiry were already erased on %(date)s."),
            params={"date": date_format(timezone.localtime(inquiry.anonymised_at).date())},
            code="already_erased",
        )
    now = timezone.now()
    scrub = _Scrubber(_name_variants(inquiry), phones=[inquiry.phone], kept_emails=_staff_emails())

    events = list(inquiry.events.all())
    for event in events:
        event.text, event.data = _erased_event(event, scrub)
    InquiryEvent.objects.bulk_update(events, ["text", "data"])

    pdfs: list[Any] = []
    offers = list(Offer.objects.filter(inquiry=inquiry))
    for offer in offers:
        offer.title = scrub.text(offer.title)
        offer.introduction = scrub.text(offer.introduction)
        offer.pdf_error = scrub.text(offer.pdf_error)
        if offer.pdf:
            # The exposé's cover names the investor: drop it; it can be rendered again.
            pdfs.append(offer.pdf)
        offer.pdf = ""
        offer.pdf_status = Offer.PdfStatus.NONE
        offer.pdf_content_version = None
        offer.pdf_rendered_at = None
        # The content changed: a PDF being rendered from the old content is out of date.
        offer.content_version += 1
        offer.updated_at = now
    Offer.objects.bulk_update(
        offers,
        [
            "title",
            "introduction",
            "pdf_error",
            "pdf",
            "pdf_status",
            "pdf_content_version",
            "pdf_rendered_at",
            "content_version",
            "updated_at",
        ],
    )
    items = list(OfferSite.objects.filter(offer__inquiry=inquiry))
    for item in items:
        item.note = scrub.text(item.note)
        item.response_comment = ""
    OfferSite.objects.bulk_update(items, ["note", "response_comment"])
    links = OfferLink.objects.filter(offer__inquiry=inquiry)
    revoked = links.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_by=acting_user)
    links.update(recipient_email="")

    # The industry stays for the statistics, without a name typed into it.
    inquiry.industry = scrub.text(inquiry.industry)
    inquiry.company = ""
    inquiry.contact_name = ""
    inquiry.email = ""
    inquiry.phone = ""
    inquiry.message = ""
    inquiry.client_fingerprint = ""
    inquiry.user = None
    inquiry.anonymised_at = now
    inquiry.save()

    # The admin's change log keeps the objects' names (which hold the company).
    _log_entries_erase(inquiry=inquiry, offers=offers, scrub=scrub)

    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.ANONYMISED,
        actor=acting_user,
        text=scrub.text(reason),
        data={"links_revoked": revoked, "retention": acting_user is None},
    )
    for pdf in pdfs:
        # robust: a storage failure is logged, never an error after the erasure committed.
        transaction.on_commit(_deleter(pdf.storage, pdf.name), robust=True)
    return inquiry


def _log_entries_erase(*, inquiry: Inquiry, offers: list[Offer], scrub: _Scrubber) -> None:
    content_types = ContentType.objects.get_for_models(Inquiry, Offer)
    LogEntry.objects.filter(content_type=content_types[Inquiry], object_id=str(inquiry.pk)).update(
        object_repr=str(inquiry)[:200], change_message=""
    )
    entries = list(
        LogEntry.objects.filter(
            content_type=content_types[Offer], object_id__in=[str(offer.pk) for offer in offers]
        )
    )
    for entry in entries:
        entry.object_repr = scrub.text(entry.object_repr)[:200]
        entry.change_message = ""
    LogEntry.objects.bulk_update(entries, ["object_repr", "change_message"])


def _deleter(storage: Any, name: str) -> Callable[[], None]:
    return lambda: storage.delete(name)


@dataclass
class RetentionResult:
    """What a run of the retention rule did: erased, and the ids that failed (logged)."""

    due: int
    erased: int = 0
    failed: list[int] = field(default_factory=list)


def inquiries_anonymise_due(
    *, days: int | None = None, now: datetime.datetime | None = None, dry_run: bool = False
) -> RetentionResult:
    """The retention rule: erases closed inquiries closed more than `days` (default
    INQUIRY_RETENTION_DAYS) ago; open ones never. Each in its own transaction: one failure
    is logged and neither undoes nor stops the others."""
    days = settings.INQUIRY_RETENTION_DAYS if days is None else days
    if days < 1:
        raise ValueError("the retention period is at least one day")
    due_ids = list(
        Inquiry.objects.due_for_anonymisation(days=days, now=now)
        .order_by("id")
        .values_list("id", flat=True)
    )
    result = RetentionResult(due=len(due_ids))
    if dry_run:
        return result
    reason = gettext("Retention period of %(days)s days after closing ended.") % {"days": days}
    for inquiry_id in due_ids:
        try:
            with transaction.atomic():
                # Checked again under the lock: reopened or erased meanwhile, it is left alone.
                inquiry = (
                    Inquiry.objects.due_for_anonymisation(days=days, now=now)
                    .select_for_update(of=("self",))
                    .filter(pk=inquiry_id)
                    .first()
                )
                if inquiry is None:
                    continue
                inquiry_erase(inquiry=inquiry, acting_user=None, reason=reason)
        except Exception:  # one inquiry's failure must not keep the others' data
            logger.exception("inquiry %s: the personal data could not be erased", inquiry_id)
            result.failed.append(inquiry_id)
        else:
            result.erased += 1
    return result
