"""Staff invite municipal partners: an inactive account and a one-time link by e-mail.

The link carries the user's id and a token of Django's `default_token_generator` (the one
of the password reset). The token is bound to the password hash and last login: once the
invited person has set a password it is void, so a link works once; it also expires after
PASSWORD_RESET_TIMEOUT (three days by default), when staff simply invite again.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import PartnerOrganisation, User
from geodata.models import Municipality
from sitefinder.mail import templated_email

from .signup import normalise_email


def partner_organisation_create(
    *, name: str, municipalities: Iterable[Municipality], acting_user: User
) -> PartnerOrganisation:
    if not acting_user.is_agency_staff:
        raise PermissionDenied(_("Only agency staff can create partner organisations."))
    organisation = PartnerOrganisation(name=" ".join(name.split()))
    organisation.full_clean()
    organisation.save()
    organisation.municipalities.set(list(municipalities))
    return organisation


@transaction.atomic
def partner_invite(
    *,
    email: str,
    organisation: PartnerOrganisation,
    language: str,
    acting_user: User,
) -> User:
    """Creates an inactive partner account of `organisation` (no usable password) and
    e-mails the invitation link, in `language`, after the commit."""
    if not acting_user.is_agency_staff:
        raise PermissionDenied(_("Only agency staff can invite partners."))
    email = normalise_email(email)
    if User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
        raise ValidationError({"email": _("An account with this e-mail address already exists.")})
    user = User(
        username=email,
        email=email,
        role=User.Role.PARTNER,
        organisation=organisation,
        language=language,
        is_active=False,
    )
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    user_id = user.pk
    transaction.on_commit(lambda: invitation_email_send(user_id=user_id))
    return user


def invitation_url(user: User) -> str:
    path = reverse(
        "invitation_accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def invitation_email_send(*, user_id: int) -> None:
    user = User.objects.select_related("organisation").get(pk=user_id)
    with translation.override(user.language):
        context = {
            "user": user,
            "organisation": user.organisation,
            "invitation_url": invitation_url(user),
            "login_url": settings.SITE_URL + reverse("login"),
            "valid_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
        }
        subject = _("Your invitation to sitefinder")
        message = templated_email(
            template="accounts/email/invitation",
            context=context,
            subject=subject,
            to=user.email,
        )
    message.send()


def invited_user_for_link(*, uidb64: str, token: str) -> User | None:
    """The invited (not yet active) partner a link names, or None if it is tampered with,
    used or expired."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=user_id, role=User.Role.PARTNER, is_active=False).first()
    if user is None or user.has_usable_password():
        return None
    if not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def invitation_accept(*, user: User, password: str) -> User:
    """The invited partner sets a password (checked by the form): the account is active."""
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    return user
