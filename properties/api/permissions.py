"""The DRF half of organisation scoping (house style item 7): `Site.objects.editable_by(user)`
decides who may change a site, in the API as in the HTML views and the admin.

Reads are scoped by the views' querysets (`visible_to`), so a site the user may not see is a
404 before any permission is asked; this class guards the writes."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.models import User
from properties.models import Site


def _user(request: Request) -> User | None:
    user = request.user
    return user if isinstance(user, User) and user.is_authenticated else None


class CanEditSite(BasePermission):
    """Safe methods pass (the queryset decides what is visible); writing needs a user who
    may edit sites at all (a partner or staff), and for one site that it is among
    `Site.objects.editable_by(user)`."""

    # Reads are public (the OpenAPI schema shows them without a security requirement).
    public_reads = True

    def has_permission(self, request: Request, view: APIView) -> bool:
        # A method the view does not answer is left to dispatch: a 405, not a 403.
        if request.method in SAFE_METHODS or not hasattr(view, str(request.method).lower()):
            return True
        user = _user(request)
        return user is not None and (user.is_partner or user.is_agency_staff)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        if not isinstance(obj, Site):
            return False
        return Site.objects.editable_by(_user(request)).filter(pk=obj.pk).exists()
