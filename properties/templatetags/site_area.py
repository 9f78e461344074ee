"""`{{ site|site_area }}`: a site's area told the one way it is told everywhere (the gross
area as the headline, the net area beside it when stated, both labelled, the same rounding
as the detail page, the exposé, the offer PDF and the matches: presentation.area_pair)."""

from django import template

from properties.models import Site
from properties.presentation import area_pair

register = template.Library()


@register.filter
def site_area(site: Site) -> str:
    return area_pair(site)
