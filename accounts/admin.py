from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import User


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
