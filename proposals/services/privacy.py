"""An inquiry's personal data: exported for the person on request, erased on request or
after the retention period (`anonymise_inquiries`). What stays is the anonymous requirement
profile and the dates, for the statistics of demand."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User

from ..models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from .timeline import inquiry_event_add

ERASED = "[erased]"
EMAIL_PATTERN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Shorter strings (initials, "AG") would blank out unrelated words of the timeline.
MIN_REPLACED_LENGTH = 3


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
            {"username": user.get_username(), "email": user.email} if user is not None else None
        ),
        "requirements": _requirements(inquiry),
        "timeline": [
            {"at": _iso(event.at), "kind": event.kind, "text": event.text}
            for event in inquiry.events.order_by("at", "id")
        ],
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


class _Scrubber:
    """Replaces the person's strings and any e-mail address in free text."""

    def __init__(self, values: list[str]) -> None:
        words = sorted(
            {v.strip() for v in values if v and len(v.strip()) >= MIN_REPLACED_LENGTH},
            key=len,
            reverse=True,  # the longest first: "Max Muster GmbH" before "Max Muster"
        )
        self.pattern = (
            re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
        )

    def text(self, value: str) -> str:
        if self.pattern is not None:
            value = self.pattern.sub(ERASED, value)
        return EMAIL_PATTERN.sub(ERASED, value)

    def data(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self.data(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        return value


def _personal_strings(inquiry: Inquiry) -> list[str]:
    values = [inquiry.company, inquiry.contact_name, inquiry.email, inquiry.phone]
    if inquiry.user is not None:
        values += [inquiry.user.email, inquiry.user.get_full_name()]
    values += list(
        OfferLink.objects.filter(offer__inquiry=inquiry).values_list("recipient_email", flat=True)
    )
    return values


@transaction.atomic
def inquiry_erase(*, inquiry: Inquiry, acting_user: User | None, reason: str) -> Inquiry:
    """Erases the personal data of an inquiry everywhere it was copied: contact fields, the
    account link, notes and personal details in the timeline, the offers' texts and
    exposés, the links' recipients and the investor's comments; every link is revoked.
    The requirement profile and the dates stay. `acting_user` None: the retention rule."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Give a reason for erasing the personal data."))
    inquiry = Inquiry.objects.select_for_update().select_related("user").get(pk=inquiry.pk)
    if inquiry.anonymised_at is not None:
        raise ValidationError(_("The personal data of this inquiry have already been erased."))
    now = timezone.now()
    scrub = _Scrubber(_personal_strings(inquiry))

    for event in inquiry.events.all():
        if event.kind == InquiryEvent.Kind.NOTE:
            # Notes are free text about the person: erased whole, the fact of a note stays.
            event.text, event.data = "", {}
        else:
            event.text, event.data = scrub.text(event.text), scrub.data(event.data)
        event.save(update_fields=["text", "data"])

    pdfs: list[Any] = []
    for offer in Offer.objects.filter(inquiry=inquiry):
        offer.title = scrub.text(offer.title)
        offer.introduction = scrub.text(offer.introduction)
        if offer.pdf:
            # The exposé's cover names the investor: drop it; it can be rendered again.
            pdfs.append(offer.pdf)
        offer.pdf = ""
        offer.pdf_status = Offer.PdfStatus.NONE
        offer.pdf_content_version = None
        offer.save(
            update_fields=[
                "title",
                "introduction",
                "pdf",
                "pdf_status",
                "pdf_content_version",
                "updated_at",
            ]
        )
    for item in OfferSite.objects.filter(offer__inquiry=inquiry):
        item.note = scrub.text(item.note)
        item.response_comment = ""
        item.save(update_fields=["note", "response_comment"])
    links = OfferLink.objects.filter(offer__inquiry=inquiry)
    revoked = links.filter(revoked_at__isnull=True).update(revoked_at=now, revoked_by=acting_user)
    links.update(recipient_email="")

    inquiry.company = ""
    inquiry.contact_name = ""
    inquiry.email = ""
    inquiry.phone = ""
    inquiry.message = ""
    inquiry.client_fingerprint = ""
    inquiry.user = None
    inquiry.anonymised_at = now
    inquiry.save()

    # The admin's change log keeps the object's name (which holds the company).
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Inquiry), object_id=str(inquiry.pk)
    ).update(object_repr=str(inquiry)[:200], change_message="")

    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.ANONYMISED,
        actor=acting_user,
        text=scrub.text(reason),
        data={"links_revoked": revoked, "retention": acting_user is None},
    )
    for pdf in pdfs:
        transaction.on_commit(_deleter(pdf.storage, pdf.name))
    return inquiry


def _deleter(storage: Any, name: str) -> Callable[[], None]:
    return lambda: storage.delete(name)


def inquiries_anonymise_due(
    *, days: int | None = None, now: datetime.datetime | None = None, dry_run: bool = False
) -> int:
    """The retention rule: erases closed inquiries closed more than `days` (default
    INQUIRY_RETENTION_DAYS) ago; returns how many (would be) erased. Each in its own
    transaction, so one failure does not undo the others."""
    days = settings.INQUIRY_RETENTION_DAYS if days is None else days
    due = Inquiry.objects.due_for_anonymisation(days=days, now=now).order_by("id")
    if dry_run:
        return due.count()
    erased = 0
    for inquiry in due:
        inquiry_erase(
            inquiry=inquiry,
            acting_user=None,
            reason=f"Retention period of {days} days after closing ended.",
        )
        erased += 1
    return erased
