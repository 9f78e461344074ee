"""Site offers: staff compile sites for an inquiry, share them through private links, and
the investor responds per site. Every change is recorded on the inquiry's timeline; every
change of the content raises `Offer.content_version`, so a PDF rendered earlier is known to
be out of date."""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.tasks import task
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from properties.models import Site
from properties.querysets import SiteQuerySet
from sitefinder.mail import templated_email

from ..matching import site_match
from ..models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite
from .inbox import inquiry_status_set
from .offer_documents import offer_contact, offer_pdf_request
from .timeline import inquiry_event_add

logger = logging.getLogger(__name__)

# A link's lifetime in days: at least a day, at most a year.
LINK_DAYS_MAX = 365
# Reloads of the investor's page within this time add no further "opened" event.
LINK_OPENED_EVENT_INTERVAL = datetime.timedelta(hours=1)
RESPONSE_COMMENT_MAX_LENGTH = 2000


def offerable_sites() -> SiteQuerySet:
    """The sites staff may put in an offer: those investors may see (no drafts)."""
    return Site.objects.published()


def _match_snapshot(inquiry: Inquiry, site: Site, language: str) -> dict:
    # The explanation's words are stored: in the offer's language.
    with translation.override(language):
        return site_match(inquiry, site).as_json()


def offer_default_texts(inquiry: Inquiry, language: str) -> tuple[str, str]:
    """The title and introduction a new offer starts with, in `language`."""
    with translation.override(language):
        title = gettext("Site proposal for %(company)s") % {
            "company": inquiry.company or inquiry.reference
        }
        greeting = (
            gettext("Dear %(name)s,") % {"name": inquiry.contact_name}
            if inquiry.contact_name
            else gettext("Dear Sir or Madam,")
        )
        introduction = "\n\n".join(
            [
                greeting,
                gettext(
                    "thank you for your inquiry %(reference)s. Based on your requirements we "
                    "have selected the following sites in the Ruhr metropolitan area for you. "
                    "For each site you find its facts, distances and how it matches your "
                    "requirements."
                )
                % {"reference": inquiry.reference},
                gettext("We look forward to hearing from you."),
            ]
        )
    return title, introduction


def _content_changed(*, offer: Offer, acting_user: User | None, text: str, data: dict) -> None:
    Offer.objects.filter(pk=offer.pk).update(
        content_version=F("content_version") + 1, updated_at=timezone.now()
    )
    offer.refresh_from_db(fields=["content_version", "updated_at"])
    inquiry_event_add(
        inquiry=offer.inquiry,
        kind=InquiryEvent.Kind.OFFER_CHANGED,
        actor=acting_user,
        text=text,
        data={"offer": offer.pk, "content_version": offer.content_version, **data},
    )


def _renumber(offer: Offer, ordered_ids: Sequence[int]) -> None:
    for position, item_id in enumerate(ordered_ids, start=1):
        OfferSite.objects.filter(pk=item_id, offer=offer).update(position=position)


@transaction.atomic
def offer_create(
    *,
    inquiry: Inquiry,
    site_ids: Sequence[int],
    acting_user: User,
    language: str | None = None,
) -> Offer:
    """A new offer of the given sites, in that order (repeated ids count once), each with
    the matching engine's verdict; a new inquiry is now in progress."""
    language = language or inquiry.language
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    ordered_ids = list(dict.fromkeys(site_ids))
    sites = offerable_sites().select_related("municipality").in_bulk(ordered_ids)
    unknown = [site_id for site_id in ordered_ids if site_id not in sites]
    if unknown:
        raise ValidationError(
            {
                "site": _("No published site with the number(s) %(ids)s.")
                % {"ids": ", ".join(str(site_id) for site_id in unknown)}
            }
        )
    title, introduction = offer_default_texts(inquiry, language)
    offer = Offer.objects.create(
        inquiry=inquiry,
        title=title,
        language=language,
        introduction=introduction,
        created_by=acting_user,
    )
    OfferSite.objects.bulk_create(
        OfferSite(
            offer=offer,
            site=sites[site_id],
            position=position,
            match=_match_snapshot(inquiry, sites[site_id], language),
        )
        for position, site_id in enumerate(ordered_ids, start=1)
    )
    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.OFFER_CREATED,
        actor=acting_user,
        text=title,
        data={"offer": offer.pk, "sites": ordered_ids, "language": language},
    )
    if inquiry.status == Inquiry.Status.NEW:
        inquiry_status_set(
            inquiry=inquiry, status=Inquiry.Status.IN_PROGRESS, acting_user=acting_user
        )
    return offer


@transaction.atomic
def offer_update(
    *,
    offer: Offer,
    acting_user: User,
    title: str,
    introduction: str,
    language: str,
    items: Sequence[tuple[int, str]],
) -> Offer:
    """Title, introduction, language and the sites' order and notes: `items` is the ordered
    list of (offer site id, note); sites it leaves out keep their note and follow in their
    current order. A new language has every site judged again, so the stored explanations
    speak it (the PDF and the investor's page show them). Only a real change raises the
    content version and reaches the timeline: saving the builder unchanged (or before a
    move) must not make a rendered PDF out of date."""
    if language not in dict(settings.LANGUAGES):
        raise ValidationError({"language": _("Unknown language.")})
    current = {item.pk: item for item in offer.items.select_related("site")}
    unknown = [item_id for item_id, _note in items if item_id not in current]
    if unknown:
        raise ValidationError({"items": _("These sites are not part of the offer.")})
    changed: list[str] = []
    if language != offer.language:
        changed.append("language")
        for item in current.values():
            item.match = _match_snapshot(offer.inquiry, item.site, language)
            item.save(update_fields=["match"])
    title, introduction = title.strip(), introduction.strip()
    if title != offer.title:
        changed.append("title")
    if introduction != offer.introduction:
        changed.append("introduction")
    if changed:
        offer.title, offer.introduction, offer.language = title, introduction, language
        offer.save(update_fields=["title", "introduction", "language", "updated_at"])
    for item_id, note in items:
        item = current[item_id]
        if item.note != note.strip():
            item.note = note.strip()
            item.save(update_fields=["note"])
            if "notes" not in changed:
                changed.append("notes")
    in_order = [item.pk for item in sorted(current.values(), key=lambda i: (i.position, i.pk))]
    ordered = list(dict.fromkeys([*(item_id for item_id, _note in items), *in_order]))
    if ordered != in_order:
        changed.append("order")
    _renumber(offer, ordered)
    if changed:
        _content_changed(
            offer=offer, acting_user=acting_user, text=offer.title, data={"changed": changed}
        )
    return offer


@transaction.atomic
def offer_site_add(*, offer: Offer, site: Site, acting_user: User) -> OfferSite:
    """The site at the end of the offer, with its verdict for the inquiry."""
    if not offerable_sites().filter(pk=site.pk).exists():
        raise ValidationError({"site": _("Only published sites can be offered.")})
    if offer.items.filter(site=site).exists():
        raise ValidationError({"site": _("This site is already part of the offer.")})
    last = offer.items.aggregate(last=Max("position"))["last"] or 0
    item = OfferSite.objects.create(
        offer=offer,
        site=site,
        position=last + 1,
        match=_match_snapshot(offer.inquiry, site, offer.language),
    )
    _content_changed(offer=offer, acting_user=acting_user, text=site.title, data={"added": site.pk})
    return item


@transaction.atomic
def offer_site_remove(*, offer_site: OfferSite, acting_user: User) -> None:
    offer = offer_site.offer
    site_id, title = offer_site.site_id, offer_site.site.title
    offer_site.delete()
    _renumber(offer, list(offer.items.order_by("position", "pk").values_list("pk", flat=True)))
    _content_changed(offer=offer, acting_user=acting_user, text=title, data={"removed": site_id})


@transaction.atomic
def offer_site_move(*, offer_site: OfferSite, direction: str, acting_user: User) -> None:
    """One place up or down; at either end nothing changes (and nothing is recorded)."""
    if direction not in ("up", "down"):
        raise ValidationError({"direction": _("Move up or down.")})
    offer = offer_site.offer
    ordered = list(offer.items.order_by("position", "pk").values_list("pk", flat=True))
    index = ordered.index(offer_site.pk)
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    _renumber(offer, ordered)
    _content_changed(
        offer=offer,
        acting_user=acting_user,
        text=offer_site.site.title,
        data={"moved": offer_site.site_id, "direction": direction},
    )


# --- private links --------------------------------------------------------------------


def offer_link_url(link: OfferLink) -> str:
    """The link the investor is sent: in the offer's language (/pl/offers/<token>/)."""
    with translation.override(link.offer.language):
        return settings.SITE_URL + reverse("offer_link", args=[link.token])


@transaction.atomic
def offer_link_create(
    *,
    offer: Offer,
    acting_user: User,
    recipient_email: str,
    days: int | None = None,
    send: bool = True,
) -> OfferLink:
    """A new private link, valid for `days`. With `send` the link is e-mailed (after
    commit, as a task), the offer counts as sent and the inquiry moves to "offer sent"; a
    link made without sending (to be passed on by other means) counts as sent when the
    investor first opens it. A current PDF is made sure of: the investor's page offers it."""
    days = settings.OFFER_LINK_DAYS if days is None else days
    if not 1 <= days <= LINK_DAYS_MAX:
        raise ValidationError({"days": _("Between 1 and %(max)s days.") % {"max": LINK_DAYS_MAX}})
    if send and not recipient_email:
        raise ValidationError({"recipient_email": _("An e-mail address is needed to send it.")})
    now = timezone.now()
    link = OfferLink.objects.create(
        offer=offer,
        token=secrets.token_urlsafe(32),
        recipient_email=recipient_email,
        created_by=acting_user,
        created_at=now,
        expires_at=now + datetime.timedelta(days=days),
    )
    inquiry = offer.inquiry
    inquiry_event_add(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.LINK_CREATED,
        actor=acting_user,
        text=recipient_email,
        data={"offer": offer.pk, "link": link.pk, "expires_at": link.expires_at, "sent": send},
    )
    if send:
        _offer_sent(offer, acting_user=acting_user, at=now)
    if not offer.pdf_is_current and offer.pdf_status != Offer.PdfStatus.PENDING:
        offer_pdf_request(offer=offer, acting_user=acting_user)
    if send:
        link_id = link.pk
        transaction.on_commit(lambda: offer_link_email_send.enqueue(link_id=link_id))
    return link


def _offer_sent(offer: Offer, *, acting_user: User | None, at: datetime.datetime) -> None:
    """The offer has reached the investor: its sent time, the inquiry's first offer time,
    and the inquiry moves on to "offer sent" (through "in progress" if new)."""
    if offer.sent_at is None:
        offer.sent_at = at
        offer.save(update_fields=["sent_at", "updated_at"])
    inquiry = offer.inquiry
    if inquiry.first_offer_sent_at is None:
        inquiry.first_offer_sent_at = at
        inquiry.save(update_fields=["first_offer_sent_at", "updated_at"])
    if inquiry.status == Inquiry.Status.NEW:
        inquiry_status_set(
            inquiry=inquiry, status=Inquiry.Status.IN_PROGRESS, acting_user=acting_user
        )
    if inquiry.status == Inquiry.Status.IN_PROGRESS:
        inquiry_status_set(
            inquiry=inquiry, status=Inquiry.Status.OFFER_SENT, acting_user=acting_user
        )


@task
def offer_link_email_send(*, link_id: int) -> None:
    """E-mails the link in the offer's language; the timeline says whether it went out."""
    link = OfferLink.objects.select_related("offer__inquiry", "offer__created_by").get(pk=link_id)
    offer = link.offer
    try:
        with translation.override(offer.language):
            message = templated_email(
                template="proposals/email/offer_link",
                context={
                    "offer": offer,
                    "inquiry": offer.inquiry,
                    "url": offer_link_url(link),
                    "expires": date_format(timezone.localtime(link.expires_at), "DATE_FORMAT"),
                    "contact": offer_contact(offer),
                },
                subject=gettext("Your site proposal %(reference)s")
                % {"reference": offer.inquiry.reference},
                to=link.recipient_email,
            )
        message.send()
    except Exception as error:  # the mail server's failure must not lose the link
        logger.exception("offer link %s could not be e-mailed", link.pk)
        inquiry_event_add(
            inquiry=offer.inquiry,
            kind=InquiryEvent.Kind.MAIL_FAILED,
            text=str(error)[:500],
            data={"offer": offer.pk, "link": link.pk, "to": link.recipient_email},
        )
        return
    inquiry_event_add(
        inquiry=offer.inquiry,
        kind=InquiryEvent.Kind.MAIL_SENT,
        text=link.recipient_email,
        data={"offer": offer.pk, "link": link.pk, "mail": "offer_link"},
    )


@transaction.atomic
def offer_link_revoke(*, link: OfferLink, acting_user: User) -> OfferLink:
    if link.revoked_at is not None:
        return link
    link.revoked_at = timezone.now()
    link.revoked_by = acting_user
    link.save(update_fields=["revoked_at", "revoked_by"])
    inquiry_event_add(
        inquiry=link.offer.inquiry,
        kind=InquiryEvent.Kind.LINK_REVOKED,
        actor=acting_user,
        text=link.recipient_email,
        data={"offer": link.offer_id, "link": link.pk},
    )
    return link


@transaction.atomic
def offer_link_open(*, link: OfferLink) -> OfferLink:
    """Counts a visit of the investor's page (the view counts one per visit, not each reload
    or form post); the timeline hears of it at most hourly per link. The first opening of a
    link that was not e-mailed makes the offer sent."""
    now = timezone.now()
    OfferLink.objects.filter(pk=link.pk).update(open_count=F("open_count") + 1, last_opened_at=now)
    first = OfferLink.objects.filter(pk=link.pk, first_opened_at__isnull=True).update(
        first_opened_at=now
    )
    link.refresh_from_db(fields=["open_count", "first_opened_at", "last_opened_at"])
    if first and link.offer.sent_at is None:
        _offer_sent(link.offer, acting_user=link.created_by, at=now)
    inquiry = link.offer.inquiry
    recent = InquiryEvent.objects.filter(
        inquiry=inquiry,
        kind=InquiryEvent.Kind.LINK_OPENED,
        data__link=link.pk,
        at__gt=now - LINK_OPENED_EVENT_INTERVAL,
    )
    if not recent.exists():
        inquiry_event_add(
            inquiry=inquiry,
            kind=InquiryEvent.Kind.LINK_OPENED,
            data={"offer": link.offer_id, "link": link.pk, "count": link.open_count},
        )
    return link


class OfferLinkUnusable(Exception):
    """The link was revoked or has expired: the investor can no longer respond."""


@transaction.atomic
def offer_site_respond(
    *, link: OfferLink, offer_site: OfferSite, response: str, comment: str = ""
) -> OfferSite:
    """The investor's "interested" / "not for us" with a comment; changeable while the
    link is usable."""
    link = OfferLink.objects.select_for_update().get(pk=link.pk)
    if not link.is_usable:
        raise OfferLinkUnusable
    if offer_site.offer_id != link.offer_id:
        raise ValidationError({"item": _("This site is not part of the offer.")})
    if response not in (OfferSite.Response.INTERESTED, OfferSite.Response.NOT_FOR_US):
        raise ValidationError({"response": _("Choose “interested” or “not for us”.")})
    comment = comment.strip()
    if len(comment) > RESPONSE_COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"comment": _("At most %(max)s characters.") % {"max": RESPONSE_COMMENT_MAX_LENGTH}}
        )
    previous = offer_site.response
    offer_site.response = response
    offer_site.response_comment = comment
    offer_site.responded_at = timezone.now()
    offer_site.save(update_fields=["response", "response_comment", "responded_at"])
    inquiry_event_add(
        inquiry=link.offer.inquiry,
        kind=InquiryEvent.Kind.RESPONSE,
        text=comment,
        data={
            "offer": link.offer_id,
            "link": link.pk,
            "site": offer_site.site_id,
            "site_title": offer_site.site.title,
            "response": response,
            "previous": previous,
        },
    )
    return offer_site
