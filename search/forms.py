"""Forms of the search app's pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SavedSearch
from .services.alerts import MAX_QUERY_LENGTH


class SavedSearchForm(forms.Form):
    """ "Save this search": a name (empty: built from the filters), how often to alert, and
    the search page's query string in a hidden field."""

    name = forms.CharField(
        label=_("Name of the search"),
        max_length=120,
        required=False,
        help_text=_("Empty: named after its filters."),
    )
    frequency = forms.ChoiceField(
        label=_("E-mail alerts"),
        choices=SavedSearch.Frequency.choices,
        initial=SavedSearch.Frequency.INSTANT,
        required=False,
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_QUERY_LENGTH)

    def clean_frequency(self) -> str:
        return self.cleaned_data.get("frequency") or SavedSearch.Frequency.INSTANT


class SavedSearchEditForm(forms.Form):
    """Renaming a saved search and choosing how often it alerts."""

    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    frequency = forms.ChoiceField(label=_("E-mail alerts"), choices=SavedSearch.Frequency.choices)
