"""Inquiries, offers and links in the admin (agency staff only, like all of the admin).
Day-to-day work happens in the inbox and the offer builder; the admin is for looking
things up and corrections. The timeline is read-only: it is a record, not a form."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from .models import Inquiry, InquiryEvent, Offer, OfferLink, OfferSite


class InquiryEventInline(admin.TabularInline):
    model = InquiryEvent
    extra = 0
    fields = ("at", "kind", "actor", "text", "data")
    readonly_fields = fields
    can_delete = False
    ordering = ("at", "id")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Inquiry)
class InquiryAdmin(LeafletGeoAdmin):
    list_display = (
        "reference_display",
        "company",
        "status",
        "assignee",
        "received_at",
        "match_count",
        "anonymised_at",
    )
    list_filter = ("status", "channel", "language", "assignee")
    list_select_related = ("assignee",)
    search_fields = ("company", "contact_name", "email", "industry")
    date_hierarchy = "received_at"
    raw_id_fields = ("user",)
    filter_horizontal = ("municipalities",)
    # The status moves through the workflow in the inbox (checked, on the timeline).
    readonly_fields = (
        "status",
        "received_at",
        "updated_at",
        "first_offer_sent_at",
        "closed_at",
        "anonymised_at",
        "match_count",
        "matched_at",
        "client_fingerprint",
        "privacy_accepted_at",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "status",
                    "assignee",
                    "channel",
                    "language",
                    "received_at",
                    "updated_at",
                    "first_offer_sent_at",
                    "closed_at",
                )
            },
        ),
        (
            _("Personal data"),
            {
                "fields": (
                    "company",
                    "contact_name",
                    "email",
                    "phone",
                    "message",
                    "user",
                    "privacy_accepted_at",
                    "client_fingerprint",
                    "anonymised_at",
                )
            },
        ),
        (
            _("Requirement profile"),
            {
                "fields": (
                    "kinds",
                    ("area_min_m2", "area_max_m2"),
                    "planning_categories",
                    "budget_max_eur_m2",
                    "available_by",
                    "municipalities",
                    "area_of_interest",
                    "max_distance_junction_m",
                    "max_distance_station_m",
                    "max_distance_airport_m",
                    "max_distance_port_m",
                    "max_distance_university_m",
                    ("needs_rail_siding", "needs_port_access"),
                    "jobs_planned",
                    "industry",
                    "hard_criteria",
                    "source_query",
                    ("match_count", "matched_at"),
                )
            },
        ),
    )
    inlines = (InquiryEventInline,)

    @admin.display(description=_("reference"), ordering="id")
    def reference_display(self, obj: Inquiry) -> str:
        return obj.reference


class OfferSiteInline(admin.TabularInline):
    model = OfferSite
    extra = 0
    fields = ("position", "site", "note", "response", "response_comment", "responded_at")
    readonly_fields = ("response", "response_comment", "responded_at")
    raw_id_fields = ("site",)
    ordering = ("position", "id")


class OfferLinkInline(admin.TabularInline):
    model = OfferLink
    extra = 0
    fields = (
        "token_hint",
        "recipient_email",
        "created_at",
        "expires_at",
        "revoked_at",
        "first_opened_at",
        "last_opened_at",
        "open_count",
    )
    readonly_fields = fields
    can_delete = False

    @admin.display(description=_("token"))
    def token_hint(self, obj: OfferLink) -> str:
        return token_hint(obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


def token_hint(link: OfferLink) -> str:
    """The first characters only: enough to tell links apart, useless to open one."""
    return f"{link.token[:6]}…" if link.token else "–"


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ("__str__", "inquiry", "language", "created_at", "sent_at", "pdf_status")
    list_filter = ("language", "pdf_status")
    list_select_related = ("inquiry",)
    search_fields = ("title", "inquiry__company")
    raw_id_fields = ("inquiry", "created_by")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "updated_at",
        "sent_at",
        "content_version",
        "pdf",
        "pdf_status",
        "pdf_content_version",
        "pdf_rendered_at",
        "pdf_error",
    )
    inlines = (OfferSiteInline, OfferLinkInline)


@admin.register(OfferLink)
class OfferLinkAdmin(admin.ModelAdmin):
    """Read-only: links are created, sent and revoked in the offer builder (it records
    each step on the timeline); the token is never shown whole."""

    list_display = (
        "token_hint",
        "offer",
        "recipient_email",
        "created_at",
        "expires_at",
        "revoked_at",
        "open_count",
        "last_opened_at",
    )
    list_select_related = ("offer",)
    list_filter = ("revoked_at",)
    search_fields = ("recipient_email", "offer__title")
    date_hierarchy = "created_at"
    fields = (
        "token_hint",
        "offer",
        "recipient_email",
        "created_at",
        "created_by",
        "expires_at",
        "revoked_at",
        "revoked_by",
        "first_opened_at",
        "last_opened_at",
        "open_count",
    )
    readonly_fields = fields

    @admin.display(description=_("token"))
    def token_hint(self, obj: OfferLink) -> str:
        return token_hint(obj)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
