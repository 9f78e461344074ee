from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from leaflet.admin import LeafletGeoAdmin

from geodata.layers import DISTANCE_FIELDS

from .models import PartnerOrganisation, Site, SiteMedia
from .services.sites import site_save


class SiteMediaInline(admin.TabularInline):
    model = SiteMedia
    extra = 0
    fields = ("kind", "file", "caption", "position")


@admin.register(Site)
class SiteAdmin(LeafletGeoAdmin):
    list_display = (
        "title",
        "kind",
        "status",
        "municipality",
        "gross_area_m2",
        "price_eur_m2",
        "is_demo",
        "last_verified_at",
    )
    list_filter = (
        "status",
        "kind",
        "planning_category",
        "is_demo",
        "municipality__district",
        "municipality",
    )
    search_fields = ("title", "partner_ref", "description", "municipality__name")
    list_select_related = ("municipality",)
    readonly_fields = (
        "municipality",
        "geom_area_m2",
        *DISTANCE_FIELDS,
        "distances_computed_at",
        "created_at",
        "updated_at",
    )
    inlines = [SiteMediaInline]
    show_full_result_count = False  # no COUNT(*) over 100,000 sites on every page
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "title",
                    "kind",
                    "status",
                    "is_demo",
                    "organisation",
                    "partner_ref",
                    "description",
                )
            },
        ),
        (_("Location"), {"fields": ("geom", "municipality", "street", "postcode", "geom_area_m2")}),
        (
            _("Size and planning"),
            {
                "fields": (
                    "gross_area_m2",
                    "net_area_m2",
                    "is_divisible",
                    "min_divisible_m2",
                    "max_divisible_m2",
                    "planning_category",
                    "bplan_status",
                    "restriction_class",
                    "restrictions",
                    "restriction_notes",
                )
            },
        ),
        (
            _("Offer"),
            {
                "fields": (
                    "ownership",
                    "available_from",
                    "price_eur_m2",
                    "price_on_request",
                    "price_negotiable",
                )
            },
        ),
        (
            _("Servicing and transport"),
            {
                "fields": (
                    "has_water",
                    "has_sewer",
                    "has_power",
                    "has_gas_heat",
                    "broadband",
                    "has_rail_siding",
                    "has_port_access",
                )
            },
        ),
        (_("Contact"), {"fields": ("contact_name", "contact_email", "contact_phone")}),
        (_("Distances (computed)"), {"fields": (*DISTANCE_FIELDS, "distances_computed_at")}),
        (
            _("Freshness"),
            {"fields": ("created_at", "updated_at", "last_verified_at", "verified_by")},
        ),
    )

    def save_model(self, request, obj, form, change):
        # The municipality and distances follow from the geometry (properties.services.sites).
        changed = {
            name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data
        }
        site_save(site=obj, acting_user=request.user, fields=changed)


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone")
    search_fields = ("name",)
    filter_horizontal = ("municipalities",)


@admin.register(SiteMedia)
class SiteMediaAdmin(admin.ModelAdmin):
    list_display = ("__str__", "site", "kind", "uploaded_at")
    list_filter = ("kind",)
    raw_id_fields = ("site",)
