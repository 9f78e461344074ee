from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import DigestLog, User


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
