"""Site proposals: an investor's inquiry (a requirement profile plus contact details), its
timeline, and the site offers staff compile for it, shared through private links.

Personal data lives in the contact fields of `Inquiry`, in notes and in offer links'
recipients; `proposals.services.privacy` exports and erases exactly those, and anonymises
closed inquiries after the retention period. The requirement profile stays, without a
person, for the statistics of unmet demand."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from geodata.models import STORAGE_SRID, Municipality
from properties.models import Site

from .querysets import InquiryQuerySet, OfferLinkQuerySet


class Criterion(models.TextChoices):
    """The requirements an inquiry can state; the matching engine judges each site on each
    criterion the inquiry states (proposals.matching)."""

    KIND = "kind", _("Kind of site")
    OFFER_TYPE = "offer_type", _("Offer type")
    AREA = "area", _("Area")
    PLANNING = "planning", _("Planning category")
    BUDGET = "budget", _("Budget")
    AVAILABILITY = "availability", _("Availability")
    LOCATION = "location", _("Location")
    JUNCTION = "junction", _("Distance to motorway junction")
    STATION = "station", _("Distance to station")
    AIRPORT = "airport", _("Distance to airport")
    PORT = "port", _("Distance to port")
    UNIVERSITY = "university", _("Distance to university")
    RAIL_SIDING = "rail_siding", _("Rail siding")
    PORT_ACCESS = "port_access", _("Port access")


# Criteria a site must meet (a near miss counts as met) to be ranked at all; failing one
# puts it on the list of excluded sites, with the reason. Staff may change this per inquiry.
DEFAULT_HARD_CRITERIA = [
    Criterion.KIND,
    Criterion.OFFER_TYPE,
    Criterion.AREA,
    Criterion.PLANNING,
    Criterion.LOCATION,
    Criterion.RAIL_SIDING,
    Criterion.PORT_ACCESS,
]


def default_hard_criteria() -> list[str]:
    return [str(criterion) for criterion in DEFAULT_HARD_CRITERIA]


class Inquiry(models.Model):
    """An investor's request for a site proposal."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        OFFER_SENT = "offer_sent", _("Offer sent")
        WON = "won", _("Won")
        LOST = "lost", _("Lost")
        CLOSED = "closed", _("Closed")

    class Channel(models.TextChoices):
        WEB = "web", _("Inquiry form")
        STAFF = "staff", _("Entered by staff (phone, e-mail, fair)")
        SITE = "site", _("Question about a site")

    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True
    )
    channel = models.CharField(
        _("received through"), max_length=8, choices=Channel.choices, default=Channel.WEB
    )
    language = models.CharField(
        _("language"), max_length=7, choices=User.Language.choices, default="de"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_inquiries",
    )
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    is_demo = models.BooleanField(
        _("demo data"),
        default=False,
        help_text=_("Generated for demonstration; not a real inquiry."),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    first_offer_sent_at = models.DateTimeField(_("first offer sent at"), null=True, blank=True)
    closed_at = models.DateTimeField(
        _("closed at"), null=True, blank=True, help_text=_("When it became won, lost or closed.")
    )

    # --- personal data (exported on request, erased on request or after retention) ---
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("investor account"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inquiries",
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True)
    privacy_accepted_at = models.DateTimeField(
        _("privacy notice accepted at"), null=True, blank=True
    )
    # A keyed hash of the sender's IP address, for the rate limit only; never the address.
    client_fingerprint = models.CharField(max_length=64, blank=True, db_index=True)
    anonymised_at = models.DateTimeField(
        _("personal data erased at"), null=True, blank=True, db_index=True
    )

    # --- requirement profile ---
    kinds = ArrayField(
        models.CharField(max_length=16, choices=Site.Kind.choices),
        verbose_name=_("kinds of site"),
        default=list,
        blank=True,
        help_text=_("Empty: any kind."),
    )
    # How the investor wants to have it: buy, rent or leasehold (several: any of them).
    offer_types = ArrayField(
        models.CharField(max_length=16, choices=Site.OfferType.choices),
        verbose_name=_("offer types"),
        default=list,
        blank=True,
        help_text=_("Empty: any offer type."),
    )
    area_min_m2 = models.FloatField(
        _("area at least (m²)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    area_max_m2 = models.FloatField(
        _("area at most (m²)"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    planning_categories = ArrayField(
        models.CharField(max_length=2, choices=Site.PlanningCategory.choices),
        verbose_name=_("planning categories"),
        default=list,
        blank=True,
        help_text=_("Empty: any category."),
    )
    budget_max_eur_m2 = models.DecimalField(
        _("budget at most (€/m²)"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    available_by = models.DateField(
        _("needed by"), null=True, blank=True, help_text=_("Empty: no deadline.")
    )
    municipalities = models.ManyToManyField(
        Municipality,
        verbose_name=_("preferred municipalities"),
        blank=True,
        related_name="inquiries",
    )
    area_of_interest = models.MultiPolygonField(
        _("area drawn on the map"), srid=STORAGE_SRID, null=True, blank=True
    )
    max_distance_junction_m = models.FloatField(
        _("motorway junction at most (m)"), null=True, blank=True
    )
    max_distance_station_m = models.FloatField(_("station at most (m)"), null=True, blank=True)
    max_distance_airport_m = models.FloatField(_("airport at most (m)"), null=True, blank=True)
    max_distance_port_m = models.FloatField(_("port at most (m)"), null=True, blank=True)
    max_distance_university_m = models.FloatField(
        _("university at most (m)"), null=True, blank=True
    )
    needs_rail_siding = models.BooleanField(_("rail siding needed"), default=False)
    needs_port_access = models.BooleanField(_("port access needed"), default=False)
    jobs_planned = models.PositiveIntegerField(_("jobs planned"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=120, blank=True)
    hard_criteria = ArrayField(
        models.CharField(max_length=16, choices=Criterion.choices),
        verbose_name=_("must-have criteria"),
        default=default_hard_criteria,
        blank=True,
        help_text=_("A site failing one of these is excluded from the ranking, with the reason."),
    )
    # How many published sites met every must-have criterion when last matched (the
    # dashboard's unmet demand: inquiries nothing matched); refreshed by proposals.matching.
    match_count = models.PositiveIntegerField(_("matching sites"), null=True, blank=True)
    matched_at = models.DateTimeField(_("matched at"), null=True, blank=True)
    # "Ask about this site" on a site's page: the inquiry is about that site, and the
    # partner organisation that owns it is told as well.
    site = models.ForeignKey(
        Site,
        verbose_name=_("about the site"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="inquiries",
    )
    source_query = models.TextField(
        _("started from the search"),
        blank=True,
        help_text=_("The query string of the investor's search the inquiry started from."),
    )

    objects = InquiryQuerySet.as_manager()

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(area_min_m2__isnull=True)
                | models.Q(area_max_m2__isnull=True)
                | models.Q(area_min_m2__lte=models.F("area_max_m2")),
                name="inquiry_area_range_ordered",
            ),
        ]
        indexes = [
            models.Index(fields=["client_fingerprint", "received_at"], name="inquiry_rate_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} · {self.company or _('(erased)')}"

    @property
    def reference(self) -> str:
        """The number staff and investor quote, e.g. "A-00042"."""
        return f"A-{self.pk or 0:05d}"

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.NEW, self.Status.IN_PROGRESS, self.Status.OFFER_SENT)


class InquiryEvent(models.Model):
    """One entry of an inquiry's timeline: everything that happened, who did it and when."""

    class Kind(models.TextChoices):
        RECEIVED = "received", _("Received")
        STATUS = "status", _("Status changed")
        ASSIGNED = "assigned", _("Assigned")
        NOTE = "note", _("Note")
        MAIL_SENT = "mail_sent", _("E-mail sent")
        MAIL_FAILED = "mail_failed", _("E-mail failed")
        OFFER_CREATED = "offer_created", _("Offer created")
        OFFER_CHANGED = "offer_changed", _("Offer changed")
        PDF_READY = "pdf_ready", _("PDF rendered")
        PDF_FAILED = "pdf_failed", _("PDF failed")
        LINK_CREATED = "link_created", _("Offer link created")
        LINK_REVOKED = "link_revoked", _("Offer link revoked")
        LINK_OPENED = "link_opened", _("Offer link opened")
        RESPONSE = "response", _("Investor responded")
        EXPORTED = "exported", _("Personal data exported")
        ANONYMISED = "anonymised", _("Personal data erased")

    inquiry = models.ForeignKey(
        Inquiry, verbose_name=_("inquiry"), on_delete=models.CASCADE, related_name="events"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the investor or the system."),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("inquiry event")
        verbose_name_plural = _("timeline")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["inquiry", "at"], name="inquiryevent_inquiry_at_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"


class Offer(models.Model):
    """A handful of sites staff propose for an inquiry, in order, with an introduction and a
    note per site; rendered as an exposé PDF and shown through private links."""

    class PdfStatus(models.TextChoices):
        NONE = "none", _("Not rendered")
        PENDING = "pending", _("Being rendered")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    inquiry = models.ForeignKey(
        Inquiry, verbose_name=_("inquiry"), on_delete=models.CASCADE, related_name="offers"
    )
    title = models.CharField(_("title"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=7, choices=User.Language.choices)
    introduction = models.TextField(_("introduction"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Raised by every change of the content; the PDF is current when rendered at it.
    content_version = models.PositiveIntegerField(_("content version"), default=1)
    pdf = models.FileField(_("exposé PDF"), upload_to="offers/%Y/%m/", blank=True)
    pdf_status = models.CharField(
        _("PDF"), max_length=8, choices=PdfStatus.choices, default=PdfStatus.NONE
    )
    pdf_content_version = models.PositiveIntegerField(null=True, blank=True)
    pdf_rendered_at = models.DateTimeField(_("PDF rendered at"), null=True, blank=True)
    pdf_error = models.TextField(_("PDF error"), blank=True)

    class Meta:
        verbose_name = _("site offer")
        verbose_name_plural = _("site offers")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"{self.inquiry.reference} · {self.created_at:%Y-%m-%d}"

    @property
    def pdf_is_current(self) -> bool:
        return (
            self.pdf_status == self.PdfStatus.READY
            and self.pdf_content_version == self.content_version
        )


class OfferSite(models.Model):
    """A site in an offer, with staff's note and the investor's response."""

    class Response(models.TextChoices):
        NONE = "", _("No response yet")
        INTERESTED = "interested", _("Interested")
        NOT_FOR_US = "not_for_us", _("Not for us")

    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="items"
    )
    # PROTECT: a site offered to an investor is withdrawn, never deleted under the offer.
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="offer_items"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    note = models.TextField(_("note"), blank=True)
    # The matching engine's verdict when the site was added (proposals.matching), so the
    # offer explains the fit as it was judged.
    match = models.JSONField(_("match"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    response = models.CharField(
        _("response"), max_length=12, choices=Response.choices, default="", blank=True
    )
    response_comment = models.TextField(_("comment"), blank=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("offered site")
        verbose_name_plural = _("offered sites")
        ordering = ["offer", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["offer", "site"], name="offersite_unique_site")
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} · {self.site_id}"


class OfferLink(models.Model):
    """A private, unguessable, expiring and revocable link to an offer for the investor."""

    offer = models.ForeignKey(
        Offer, verbose_name=_("offer"), on_delete=models.CASCADE, related_name="links"
    )
    token = models.CharField(_("token"), max_length=64, unique=True, editable=False)
    recipient_email = models.EmailField(_("sent to"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    first_opened_at = models.DateTimeField(_("first opened at"), null=True, blank=True)
    last_opened_at = models.DateTimeField(_("last opened at"), null=True, blank=True)
    open_count = models.PositiveIntegerField(_("times opened"), default=0)

    objects = OfferLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("offer link")
        verbose_name_plural = _("offer links")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.offer_id} · {self.created_at:%Y-%m-%d}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired
