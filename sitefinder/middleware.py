"""Request-level protections (issue 11): a cap on request bodies checked before any byte of
the body is read, no caching of staff and partner pages by browsers or proxies, and a
Content-Security-Policy on every response, Django's debug pages included."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.template.loader import render_to_string
from django.urls import Resolver404, resolve
from django.utils.csp import CSP
from django.utils.translation import gettext as _

from sitefinder.l10n import unprefixed_path

Handler = Callable[[HttpRequest], HttpResponse]


def _url_name(request: HttpRequest) -> str:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return ""
    return match.view_name or ""


def body_limit(request: HttpRequest) -> int:
    """The largest body this request may send: anonymous clients get the small cap, signed-in
    users the forms' cap, and the forms that take files (REQUEST_BODY_UPLOAD_VIEWS: partner
    bulk upload, site editor with photos and documents, the admin) the upload cap."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return settings.REQUEST_BODY_MAX_BYTES_ANONYMOUS
    name = _url_name(request)
    if any(
        name == view or (view.endswith(":") and name.startswith(view))
        for view in settings.REQUEST_BODY_UPLOAD_VIEWS
    ):
        return settings.REQUEST_BODY_MAX_BYTES_UPLOAD
    return settings.REQUEST_BODY_MAX_BYTES


class RequestBodyLimitMiddleware:
    """Refuses a request whose Content-Length is over its cap with 413, before the body is
    read (nothing is spooled to memory or disk). Bodies without a length (chunked) are
    bounded by Django's DATA_UPLOAD_MAX_MEMORY_SIZE and the upload handlers."""

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            length = -1
        limit = body_limit(request)
        if length < 0:
            return self._refuse(request, 400, _("The Content-Length header is not a number."))
        if length > limit:
            message = _("The request is too large: at most %(max)s MB may be sent here.") % {
                "max": f"{limit / 1024**2:g}"
            }
            return self._refuse(request, 413, message)
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
        # The body is not read. No "Connection: close" header: it is hop-by-hop, which a WSGI
        # application must not set (PEP 3333; the development server's wsgiref asserts and
        # answered 500, gunicorn drops it); gunicorn's sync workers close after every
        # response anyway.
        response: HttpResponse
        if request.path_info.startswith("/api/") or "json" in request.headers.get("Accept", ""):
            response = JsonResponse({"detail": message}, status=status)
        else:
            html = render_to_string("request_too_large.html", {"message": message}, request)
            response = HttpResponse(html, status=status)
        return response


# URL prefixes (first path segment) of pages made for staff and partners, and of pages
# showing one person's data (an offer link, an account).
PRIVATE_PREFIXES = ("staff", "partner", "admin", "offers", "account", "accounts")


class PrivatePagesNoStoreMiddleware:
    """`Cache-Control: private, no-store` on every staff and partner page, and on every
    response to a signed-in staff or partner user (their pages and tiles can show drafts and
    personal data), so neither a shared proxy nor the browser's disk cache keeps them."""

    def __init__(self, get_response: Handler):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.is_private(request):
            response["Cache-Control"] = "private, no-store"
            response.headers.pop("Expires", None)
        return response

    @staticmethod
    def is_private(request: HttpRequest) -> bool:
        # Pages carry a language prefix (/de/staff/…): the section is after it.
        if unprefixed_path(request.path_info).lstrip("/").split("/", 1)[0] in PRIVATE_PREFIXES:
            return True
        user = getattr(request, "user", None)
        return bool(
            user is not None
            and user.is_authenticated
            and (user.is_staff or getattr(user, "role", "") in ("staff", "partner"))
        )


class PolicyOnEveryResponseMiddleware(ContentSecurityPolicyMiddleware):
    """Django's CSP middleware, but Django's own debug pages (DEBUG only: run.sh --dev),
    which switch the policy off for themselves (`csp_override({})`), get it too: the 404
    page the site's policy, the 500 page the same with inline scripts allowed (its frame
    toggles are inline; it never reaches production, where handler500 renders 500.html
    under the site's policy)."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if getattr(response, "_csp_config", None) == {} and settings.DEBUG:
            policy = dict(settings.SECURE_CSP)
            if response.status_code >= 500:
                policy["script-src"] = [CSP.SELF, CSP.UNSAFE_INLINE]
            response._csp_config = policy  # type: ignore[attr-defined]
        return super().process_response(request, response)
