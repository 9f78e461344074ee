"""The site filters: one FilterSet for the API (and, later, the HTML search)."""

import django_filters

from geodata.api.filters import BBoxFilter
from geodata.models import Municipality
from properties.models import Site


class SiteFilterSet(django_filters.FilterSet):
    bbox = BBoxFilter()
    kind = django_filters.MultipleChoiceFilter(choices=Site.Kind.choices)
    municipality = django_filters.ModelMultipleChoiceFilter(
        field_name="municipality__ags",
        to_field_name="ags",
        queryset=Municipality.objects.all(),
        help_text="8-digit AGS; repeat for several.",
    )
    status = django_filters.MultipleChoiceFilter(choices=Site.Status.choices)

    class Meta:
        model = Site
        fields = ["bbox", "kind", "municipality", "status"]
