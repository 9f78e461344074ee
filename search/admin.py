from django.contrib import admin

from .models import EmptySearch, SavedSearch, SearchAlert, ShortlistEntry


@admin.register(ShortlistEntry)
class ShortlistEntryAdmin(admin.ModelAdmin):
    list_display = ("user", "site", "added_at")
    list_select_related = ("user", "site")
    search_fields = ("user__username", "user__email", "site__title")
    raw_id_fields = ("user", "site")
    date_hierarchy = "added_at"


@admin.register(SavedSearch)
class SavedSearchAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "language", "is_active", "created_at", "last_checked_at")
    list_filter = ("is_active", "language")
    list_select_related = ("user",)
    search_fields = ("name", "user__username", "user__email", "query")
    raw_id_fields = ("user",)
    readonly_fields = ("created_at", "alerts_since", "last_checked_at")


@admin.register(SearchAlert)
class SearchAlertAdmin(admin.ModelAdmin):
    """What was alerted, for support questions; alerts are written by `alerts_send` only."""

    list_display = ("saved_search", "site", "site_version", "created_at", "sent_at")
    list_select_related = ("saved_search", "site")
    raw_id_fields = ("saved_search", "site")
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(EmptySearch)
class EmptySearchAdmin(admin.ModelAdmin):
    """Searches that found nothing (anonymous), for looking up demand; recorded only by the
    search page and the API."""

    list_display = ("searched_on", "channel", "query")
    list_filter = ("channel",)
    search_fields = ("query",)
    date_hierarchy = "searched_on"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
