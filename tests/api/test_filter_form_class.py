"""SiteFilterSet builds its form class once per process and language: a form built first in
English still speaks German to a German request, and validates as before."""

import pytest
from django.http import QueryDict
from django.utils import translation

from properties.api.filters import SiteFilterSet
from properties.models import Site


def choice_texts(language: str) -> dict[str, str]:
    with translation.override(language):
        filterset = SiteFilterSet(QueryDict(""), queryset=Site.objects.none())
        return {str(value): str(text) for value, text in filterset.form.fields["kind"].choices}


@pytest.mark.django_db
def test_the_form_class_is_reused_and_translated_per_language():
    english_first = choice_texts("en")
    german = choice_texts("de")
    with translation.override("de"):
        expected = {str(value): str(label) for value, label in Site.Kind.choices}
    assert german[Site.Kind.PLOT] == expected[Site.Kind.PLOT]
    assert english_first[Site.Kind.PLOT] != german[Site.Kind.PLOT]
    with translation.override("de"):
        first = SiteFilterSet(QueryDict(""), queryset=Site.objects.none()).get_form_class()
        again = SiteFilterSet(QueryDict(""), queryset=Site.objects.none()).get_form_class()
    assert first is again


@pytest.mark.django_db
def test_a_reused_form_class_still_validates_each_request_on_its_own():
    valid = SiteFilterSet(QueryDict("kind=plot&area_min=500"), queryset=Site.objects.none())
    invalid = SiteFilterSet(QueryDict("kind=castle&area_min=-1"), queryset=Site.objects.none())
    assert valid.is_valid()
    assert not invalid.is_valid()
    assert {"kind", "area_min"} <= set(invalid.errors)
    assert SiteFilterSet(QueryDict("kind=plot"), queryset=Site.objects.none()).is_valid()
