from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from leaflet.admin import LeafletGeoAdmin

from geodata.layers import DISTANCE_FIELDS

from .models import (
    OFFER_FIELDS,
    DigestLog,
    Site,
    SiteChange,
    SiteCluster,
    SiteClusterBuild,
    SiteMedia,
    UploadJob,
    UploadMapping,
)
from .services.moderation import site_publish
from .services.sites import SiteConflict, site_changes_since, site_field_label, site_save


class SiteMediaInline(admin.TabularInline):
    model = SiteMedia
    extra = 0
    fields = ("kind", "file", "caption", "position")


HISTORY_ROWS_SHOWN = 50


def history_table(site: Site) -> str:
    """The site's newest history entries as a read-only table: who, when, what."""
    rows = list(site.changes.select_related("changed_by")[:HISTORY_ROWS_SHOWN])
    if not rows:
        return "–"
    body = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                date_format(localtime(row.changed_at), "SHORT_DATETIME_FORMAT"),
                row.changed_by or "–",
                row.get_action_display(),
                ", ".join(site_field_label(name) for name in row.changed_fields),
                row.reason,
                row.version,
            )
            for row in rows
        ),
    )
    return format_html(
        "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th>"
        "</tr></thead><tbody>{}</tbody></table>",
        _("changed at"),
        _("changed by"),
        _("action"),
        _("changed fields"),
        _("reason"),
        _("version"),
        body,
    )


class SiteAdminForm(forms.ModelForm):
    """Carries the version the form was loaded at: saving over a newer version is refused
    with the other editor's changes (optimistic locking, see site_save)."""

    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Site
        fields = "__all__"  # noqa: DJ007 -- ModelAdmin narrows it to the fieldsets

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["expected_version"].initial = self.instance.version

    def clean(self):
        cleaned = super().clean()
        expected = cleaned.get("expected_version")
        if self.instance.pk is not None and expected is not None:
            current = Site.objects.filter(pk=self.instance.pk).values_list("version", flat=True)
            current_version = current.first()
            if current_version is not None and current_version != expected:
                conflict = SiteConflict(
                    site=self.instance,
                    expected_version=expected,
                    current_version=current_version,
                    changes=site_changes_since(site=self.instance, version=expected),
                )
                raise conflict
        return cleaned


def _may_edit(request, obj) -> bool:
    """No object (a list or a form for a new one), or a site, history entry or file of a site
    in `Site.objects.editable_by(request.user)`."""
    if obj is None:
        return True
    site_id = obj.pk if isinstance(obj, Site) else obj.site_id
    return Site.objects.editable_by(request.user).filter(pk=site_id).exists()


class EditableSitesOnly:
    """For admins of a site's dependents (history, files): only those of editable sites."""

    def get_queryset(self, request):
        sites = Site.objects.editable_by(request.user)
        return super().get_queryset(request).filter(site__in=sites)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = Site.objects.editable_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and _may_edit(request, obj)  # type: ignore[misc]

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _may_edit(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and _may_edit(request, obj)  # type: ignore[misc]


@admin.register(Site)
class SiteAdmin(LeafletGeoAdmin):
    form = SiteAdminForm
    actions = ["publish_selected"]
    list_display = (
        "title",
        "kind",
        "status",
        "municipality",
        "gross_area_m2",
        "price_eur_m2",
        "rent_eur_m2_month",
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
        "history",
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
                    "status_reason",
                    "expected_version",
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
                    *OFFER_FIELDS,
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
        (_("History"), {"fields": ("history",)}),
    )

    # Organisation scoping (house style item 7). The admin is for agency staff (is_staff)
    # only, and staff may edit every site; should a partner ever be given is_staff, it still
    # sees and changes only its own municipalities' sites: defence in depth.
    def get_queryset(self, request):
        return super().get_queryset(request).editable_by(request.user)

    def get_readonly_fields(self, request, obj=None):
        # An existing site's status changes only through the moderation services (the
        # "publish" action here, the partner and staff pages): they check the transition,
        # write the history and e-mail the partner, which a plain field edit would skip.
        fields = super().get_readonly_fields(request, obj)
        return (*fields, "status", "status_reason") if obj is not None else fields

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) and _may_edit(request, obj)

    def has_change_permission(self, request, obj=None) -> bool:
        return super().has_change_permission(request, obj) and _may_edit(request, obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and _may_edit(request, obj)

    @admin.display(description=_("History"))
    def history(self, obj: Site) -> str:
        # A table, not an inline: the history is written by the services only, and an
        # inline formset would make every save post its management form.
        return history_table(obj) if obj.pk else "–"

    def save_model(self, request, obj, form, change):
        # The municipality and distances follow from the geometry (properties.services.sites).
        changed = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in form.cleaned_data and name != "expected_version"
        }
        site_save(
            site=obj,
            acting_user=request.user,
            fields=changed,
            expected_version=form.cleaned_data.get("expected_version") if change else None,
        )

    @admin.action(description=_("Publish the selected submitted sites"))
    def publish_selected(self, request, queryset):
        # Through the service, one site at a time: the same checks, history and e-mails
        # as anywhere else; a site that cannot be published is reported, not skipped silently.
        published = 0
        for site in queryset:
            try:
                site_publish(site=site, acting_user=request.user)
            except (PermissionDenied, ValidationError) as error:
                text = "; ".join(error.messages) if isinstance(error, ValidationError) else error
                self.message_user(
                    request,
                    _("“%(site)s” was not published: %(error)s") % {"site": site, "error": text},
                    messages.ERROR,
                )
            else:
                published += 1
        if published:
            self.message_user(
                request,
                ngettext("%(count)d site published.", "%(count)d sites published.", published)
                % {"count": published},
                messages.SUCCESS,
            )


@admin.register(SiteChange)
class SiteChangeAdmin(EditableSitesOnly, admin.ModelAdmin):
    """The history of all sites, read-only."""

    list_display = ("changed_at", "site", "action", "changed_by", "version")
    list_filter = ("action",)
    search_fields = ("site__title", "changed_by__username", "reason")
    list_select_related = ("site", "changed_by")
    raw_id_fields = ("site", "changed_by")
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SiteMedia)
class SiteMediaAdmin(EditableSitesOnly, admin.ModelAdmin):
    list_display = ("__str__", "site", "kind", "uploaded_at")
    list_filter = ("kind",)
    raw_id_fields = ("site",)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the application writes itself: staff may look, not edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UploadMapping)
class UploadMappingAdmin(admin.ModelAdmin):
    """An organisation's own words for the bulk upload (partners keep them on their upload
    page; staff may correct or delete one here)."""

    list_display = ("organisation", "kind", "field", "source", "value", "created_at")
    list_filter = ("kind", "organisation")
    search_fields = ("source", "value", "organisation__name")
    raw_id_fields = ("created_by",)


@admin.register(UploadJob)
class UploadJobAdmin(ReadOnlyAdmin):
    """The bulk uploads and how they ended (deleting one deletes its record, not its sites)."""

    list_display = ("filename", "organisation", "user", "status", "committed", "created_at")
    list_filter = ("status", "committed")
    search_fields = ("filename", "organisation__name")
    raw_id_fields = ("organisation", "user")
    exclude = ("report",)


@admin.register(SiteCluster)
class SiteClusterAdmin(ReadOnlyAdmin):
    """The low-zoom tile aggregates, derived from the sites (rebuilt, never edited)."""

    list_display = ("zoom", "cell_x", "cell_y", "site_count")
    list_filter = ("zoom",)
    show_full_result_count = False


@admin.register(SiteClusterBuild)
class SiteClusterBuildAdmin(ReadOnlyAdmin):
    list_display = ("built_at", "sites_version", "day", "seconds")


@admin.register(DigestLog)
class DigestLogAdmin(admin.ModelAdmin):
    """Which organisation got the weekly freshness digest when; written by the command only."""

    list_display = ("organisation", "sent_at", "stale_count", "hidden_count")
    list_filter = ("organisation",)
    date_hierarchy = "sent_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: DigestLog | None = None) -> bool:
        return False
