"""GET /api/v1/places/?q=…: the place search of the map's search box (properties.places)."""

from django.core.validators import RegexValidator
from django.utils.functional import lazy
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from properties.places import DEFAULT_LIMIT, MAX_LENGTH, MAX_LIMIT, MIN_LENGTH, places_search

# A site number (digits) or at least MIN_LENGTH characters that are not blank once the
# spaces around them are trimmed; the OpenAPI schema shows it as the parameter's pattern.
QUERY_PATTERN = rf"^\s*([0-9]+|[^\s\x00][^\x00\n]{{{MIN_LENGTH - 2},}}[^\s\x00])\s*$"


class UntrimmedLengthCharField(serializers.CharField):
    """max_length counts the text as sent, spaces around it included (the schema's
    maxLength), not only what is left once they are trimmed."""

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().run_validation(data)


class PlaceQuerySerializer(serializers.Serializer):
    q = UntrimmedLengthCharField(
        max_length=MAX_LENGTH,
        trim_whitespace=True,
        validators=[
            RegexValidator(
                QUERY_PATTERN,
                message=lazy(
                    lambda: gettext("Type at least %(count)d characters.") % {"count": MIN_LENGTH},
                    str,
                )(),
            )
        ],
        help_text=_(
            "A place name, postcode, station, airport, university, site title or site number."
        ),
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, required=False
    )


class PlaceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    kind_label = serializers.CharField()
    name = serializers.CharField()
    where = serializers.CharField(allow_blank=True)
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    bbox = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    url = serializers.CharField(allow_blank=True)


class PlaceSearch(APIView):
    """Places in the region for a search box: municipalities (by name or postcode),
    districts, stations, airports, universities, ports, junctions and sites (by title or
    number), labelled in the request's language; addresses from an external geocoder only
    if one is configured."""

    @extend_schema(
        parameters=[PlaceQuerySerializer],
        # The 400 ({"q": [...]} or {"limit": [...]}) is documented with every error.
        responses={
            200: inline_serializer("PlaceResults", {"results": PlaceSerializer(many=True)}),
        },
        auth=[],
    )
    def get(self, request: Request) -> Response:
        query = PlaceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        user = request.user if isinstance(request.user, User) else None
        results = places_search(
            query.validated_data["q"],
            user=user,
            limit=query.validated_data.get("limit", DEFAULT_LIMIT),
            language=(get_language() or "de")[:2],
        )
        return Response({"results": PlaceSerializer(results, many=True).data})
