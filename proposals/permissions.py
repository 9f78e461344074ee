"""Who may see the proposals workflow: agency staff only. Everyone else gets a 404, so not
even the existence of an inquiry or offer shows (the investor reaches an offer through its
private link alone)."""

from __future__ import annotations

from django.http import Http404, HttpRequest

from accounts.models import User


def staff_or_404(request: HttpRequest) -> User:
    """The request's user if it is agency staff; else Http404."""
    user = request.user
    if not isinstance(user, User) or not user.is_agency_staff:
        raise Http404
    return user
