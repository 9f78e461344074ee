"""The two gates of the HTML pages, in one place.

- `staff_required`: agency staff only. A visitor is sent to log in; any other account gets a
  404, so a staff page does not even confirm that it exists (the investor reaches an offer
  through its private link alone).
- `partner_or_staff_required`: the partner workspace. A visitor is sent to log in; an
  investor gets the workspace's 403 page, which says whom the workspace is for.

Behind either gate, `gated_user(request)` is the request's user, typed. The API has its own
permission classes (properties/api/permissions.py); the URL × role matrix
(tests/partner/test_authorization.py) pins every answer.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .models import User


def is_staff_user(user: Any) -> bool:
    return isinstance(user, User) and user.is_agency_staff


def is_investor_or_visitor(user: Any) -> bool:
    """Anyone searching as an investor: a visitor or an investor account (not staff, not a
    partner), e.g. whose empty searches count as unmet demand."""
    return not (user.is_authenticated and (user.is_agency_staff or user.is_partner))


def gated_user(request: HttpRequest) -> User:
    """The request's user, behind one of the gates above (which let no visitor through)."""
    if not isinstance(request.user, User):
        raise PermissionDenied
    return request.user


def staff_required[View: Callable[..., Any]](view: View) -> View:
    """Logged in (else to the login page), and agency staff (else 404)."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not is_staff_user(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return cast(View, wrapped)


def partner_or_staff_required[View: Callable[..., Any]](view: View) -> View:
    """Logged in (else to the login page), and a partner or agency staff (else 403)."""

    @login_required
    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not isinstance(user, User) or not (user.is_partner or user.is_agency_staff):
            return render(request, "partner/403.html", status=403)
        return view(request, *args, **kwargs)

    return cast(View, wrapped)
