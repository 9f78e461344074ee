from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import PartnerOrganisation, ThrottleEvent, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "email", "role", "organisation", "is_staff", "is_active")
    list_filter = ("role", "organisation", "is_staff", "is_active")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("sitefinder"), {"fields": ("role", "organisation", "company", "language")}),
    )
    add_fieldsets = (
        *(DjangoUserAdmin.add_fieldsets or ()),
        (_("sitefinder"), {"fields": ("email", "role", "organisation", "language")}),
    )


@admin.register(PartnerOrganisation)
class PartnerOrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone")
    search_fields = ("name",)
    filter_horizontal = ("municipalities",)


@admin.register(ThrottleEvent)
class ThrottleEventAdmin(admin.ModelAdmin):
    """Counted password-reset requests (keyed hashes); read-only, they expire by themselves.
    Locked-out logins are under "Axes" (access attempts), where staff can also unlock."""

    list_display = ("scope", "created_at", "key")
    list_filter = ("scope",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
