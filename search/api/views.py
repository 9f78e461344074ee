"""The shortlist API (the session's list for visitors, the account's for signed-in users) and
the saved searches of signed-in users."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from properties.models import Site
from search.models import SavedSearch
from search.services.alerts import saved_search_create, saved_search_delete
from search.services.shortlist import shortlist_add, shortlist_ids, shortlist_remove

from .serializers import (
    SavedSearchCreateSerializer,
    SavedSearchSerializer,
    ShortlistAddSerializer,
    ShortlistSerializer,
)


class CsrfForVisitorsToo(APIView):
    """DRF checks CSRF only for authenticated sessions; a visitor's shortlist lives in the
    session as well, so every unsafe request needs the X-CSRFToken header."""

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # A method the view does not answer is a 405 (dispatch), whatever the token.
        method = str(request.method).lower()
        allowed = method in self.http_method_names and hasattr(self, method)
        if allowed and request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
            SessionAuthentication().enforce_csrf(request)


class ShortlistView(CsrfForVisitorsToo):
    @extend_schema(responses=ShortlistSerializer)
    def get(self, request: Request) -> Response:
        """The shortlisted sites' ids, oldest first."""
        return Response({"ids": shortlist_ids(request=request)})

    @extend_schema(
        request=ShortlistAddSerializer,
        responses={
            201: ShortlistSerializer,
            400: OpenApiResponse(description="Malformed id, or the shortlist is full."),
            404: OpenApiResponse(description="No site with this id that the user may see."),
        },
    )
    def post(self, request: Request) -> Response:
        """Shortlists a site (again: no change); at most 50 sites."""
        serializer = ShortlistAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        site_id = serializer.validated_data["site"]
        user = request.user if isinstance(request.user, User) else None
        site = Site.objects.visible_to(user).filter(pk=site_id).first()
        if site is None:
            raise NotFound({"site": [_("There is no site with the id %(id)s.") % {"id": site_id}]})
        ids = shortlist_add(request=request, site=site)
        return Response({"ids": ids}, status=status.HTTP_201_CREATED)


class ShortlistEntryView(CsrfForVisitorsToo):
    @extend_schema(responses=ShortlistSerializer)
    def delete(self, request: Request, site_id: int) -> Response:
        """Takes a site off the shortlist; a site not on it is no error."""
        return Response({"ids": shortlist_remove(request=request, site_id=site_id)})


# --- saved searches (accounts only) -------------------------------------------------------


def _account(request: Request) -> User:
    # IsAuthenticated has let only signed-in users through.
    assert isinstance(request.user, User)  # noqa: S101
    return request.user


class SavedSearchListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SavedSearchSerializer(many=True))
    def get(self, request: Request) -> Response:
        """The user's saved searches, newest first (at most 50: no pages)."""
        searches = SavedSearch.objects.of_user(_account(request)).with_last_alert()
        return Response(SavedSearchSerializer(searches, many=True).data)

    @extend_schema(
        request=SavedSearchCreateSerializer,
        responses={
            201: SavedSearchSerializer,
            400: OpenApiResponse(
                description='Invalid name or query, naming the field: {"area_min": ["..."]}.'
            ),
            403: OpenApiResponse(description="Not logged in."),
        },
    )
    def post(self, request: Request) -> Response:
        """Saves a search; its alerts cover sites published or changed from now on."""
        serializer = SavedSearchCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        search = saved_search_create(user=_account(request), **serializer.validated_data)
        search.last_alert_at = None  # type: ignore[attr-defined]
        return Response(SavedSearchSerializer(search).data, status=status.HTTP_201_CREATED)


class SavedSearchDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None, 404: OpenApiResponse(description="No such search.")})
    def delete(self, request: Request, pk: int) -> Response:
        """Deletes one of the user's saved searches (another user's is 404)."""
        if not saved_search_delete(user=_account(request), saved_search_id=pk):
            raise NotFound(_("You have no saved search with the id %(id)s.") % {"id": pk})
        return Response(status=status.HTTP_204_NO_CONTENT)
