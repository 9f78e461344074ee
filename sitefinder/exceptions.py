"""API errors as JSON naming the field, for every error DRF knows how to describe, and a
JSON 404 for every /api/ path no endpoint answers."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils.translation import gettext
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    return exception_handler(exc, context)


@csrf_exempt
def api_not_found(request: HttpRequest) -> HttpResponse:
    """Any /api/ path no endpoint answers: a JSON 404, in every method and with DEBUG on
    (Django's own 404 page is HTML). A path that only lacks its final slash is redirected,
    as APPEND_SLASH does for pages, when it is a GET."""
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        match = _resolve(request.path_info + "/")
        if match is not None and match.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse(
        {"detail": gettext("There is no API endpoint at %(path)s.") % {"path": request.path}},
        status=404,
    )


def _resolve(path: str) -> ResolverMatch | None:
    try:
        return resolve(path)
    except Resolver404:
        return None
