"""Forms of the search app's pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .services.alerts import MAX_QUERY_LENGTH


class SavedSearchForm(forms.Form):
    """ "Save this search": a name, and the search page's query string in a hidden field."""

    name = forms.CharField(label=_("Name of the search"), max_length=120)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=MAX_QUERY_LENGTH)
