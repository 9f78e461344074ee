"""GET /api/v1/places/?q=…: the place search of the map's search box (properties.places)."""

from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from properties.places import DEFAULT_LIMIT, MAX_LENGTH, MAX_LIMIT, MIN_LENGTH, places_search


class PlaceQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=MAX_LENGTH,
        trim_whitespace=True,
        help_text=_(
            "A place name, postcode, station, airport, university, site title or site number."
        ),
    )
    limit = serializers.IntegerField(
        min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT, required=False
    )

    def validate_q(self, value: str) -> str:
        # A site number may be a single digit; a name needs two letters to mean anything.
        if len(value) < MIN_LENGTH and not value.isdigit():
            raise serializers.ValidationError(
                _("Type at least %(count)d characters.") % {"count": MIN_LENGTH}
            )
        return value


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
        responses={
            200: inline_serializer("PlaceResults", {"results": PlaceSerializer(many=True)}),
            400: inline_serializer(
                "PlaceQueryError", {"q": serializers.ListField(child=serializers.CharField())}
            ),
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
