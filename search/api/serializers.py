from django.utils import translation
from rest_framework import serializers

from accounts.models import User
from search.models import SavedSearch
from search.services.alerts import MAX_QUERY_LENGTH, search_page_url


class ShortlistSerializer(serializers.Serializer):
    """The shortlist: ids of the sites on it that the user may see, oldest first."""

    ids = serializers.ListField(child=serializers.IntegerField(), read_only=True)


class ShortlistAddSerializer(serializers.Serializer):
    site = serializers.IntegerField(min_value=1, help_text="The id of a site to shortlist.")


class SavedSearchSerializer(serializers.ModelSerializer):
    """A saved search; `search_url` opens it on the search page."""

    last_alert_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="When an alert was last e-mailed."
    )
    search_url = serializers.SerializerMethodField()

    class Meta:
        model = SavedSearch
        fields = [
            "id",
            "name",
            "query",
            "language",
            "is_active",
            "frequency",
            "created_at",
            "last_checked_at",
            "last_alert_at",
            "search_url",
        ]
        read_only_fields = fields

    def get_search_url(self, saved_search: SavedSearch) -> str:
        """The search page in the search's language (its alerts' language)."""
        with translation.override(saved_search.language):
            return search_page_url(saved_search.query)


class SavedSearchCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=120,
        required=False,
        allow_blank=True,
        default="",
        help_text="Empty or absent: a name built from the filters.",
    )
    frequency = serializers.ChoiceField(
        choices=SavedSearch.Frequency.choices,
        required=False,
        default=SavedSearch.Frequency.INSTANT,
        help_text="instant: e-mailed as sites change; daily or weekly: gathered in one e-mail.",
    )
    query = serializers.CharField(
        allow_blank=True,
        max_length=MAX_QUERY_LENGTH,
        help_text="The search's URL query string (the filter parameters of /api/v1/sites/), "
        'e.g. "kind=plot&area_min=10000"; checked like a search.',
    )
    language = serializers.ChoiceField(
        choices=User.Language.choices,
        required=False,
        help_text="Language of the alert e-mails; default: the user's preferred language.",
    )
