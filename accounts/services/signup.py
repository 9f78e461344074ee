"""Investors open their own account: e-mail as the login name, consent recorded."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User


def normalise_email(email: str) -> str:
    """The form an e-mail address is stored and looked up in (it is also the username)."""
    return email.strip().lower()


@transaction.atomic
def investor_signup(
    *,
    email: str,
    password: str,
    language: str,
    company: str = "",
    now: datetime.datetime | None = None,
) -> User:
    """Creates an investor account; the e-mail address is the login name. The password
    has been checked by the form against the password validators; `now` is when the
    privacy notice was accepted."""
    email = normalise_email(email)
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    user = User(
        username=email,
        email=email,
        role=User.Role.INVESTOR,
        language=language,
        company=company.strip(),
        privacy_accepted_at=now or timezone.now(),
    )
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user
