"""HTML views of the reference data."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from properties import basemaps
from properties.models import Site

from .models import Dataset


def attributions(request: HttpRequest) -> HttpResponse:
    """Every dataset shown by sitefinder with its source, licence and required attribution."""
    context = {
        "datasets": Dataset.objects.order_by("title"),
        "demo_site_count": Site.objects.published().demo().count(),
        "basemaps": basemaps.attribution_rows(),
    }
    return render(request, "geodata/attributions.html", context)
