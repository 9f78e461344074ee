"""Accounts: investors' sign-up, login, logout and the privacy notice they consent to;
password reset and change (Django's views, e-mails in the user's language); staff's
invitations of municipal partners and the invitation link."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import i18n as i18n_views
from django.views.decorators.debug import sensitive_post_parameters

from sitefinder.l10n import translate_path
from sitefinder.net import client_address

from .forms import LoginForm, PartnerInviteForm, SignupForm
from .models import User
from .permissions import gated_user, staff_required
from .services.invitations import (
    invitation_accept,
    invited_user_for_link,
    partner_invite,
    partner_organisation_create,
)
from .services.signup import investor_signup
from .throttling import minutes_until, throttle_check


def _remember_language(response: HttpResponse, user: User) -> HttpResponse:
    """After login, the pages speak the user's preferred language (LocaleMiddleware reads
    the language cookie, as the language switcher sets it); the page it goes to is that
    page in the user's language (its URL's prefix)."""
    if isinstance(response, HttpResponseRedirect):
        response["Location"] = translate_path(response["Location"], user.language)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        user.language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def _safe_next(request: HttpRequest) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        return _remember_language(response, form.get_user())

    def get_default_redirect_url(self) -> str:
        """Without a ?next=, partners land on their workspace; staff and investors on the
        map (LOGIN_REDIRECT_URL)."""
        user = self.request.user
        if isinstance(user, User) and user.is_partner:
            return _workspace_url()
        return super().get_default_redirect_url()


class LogoutView(auth_views.LogoutView):
    """POST only (Django's LogoutView); then back to the map (LOGOUT_REDIRECT_URL)."""


@sensitive_post_parameters("password1", "password2")
def signup(request: HttpRequest) -> HttpResponse:
    """Opens an investor account and logs the new investor in."""
    if request.user.is_authenticated:
        return redirect(_safe_next(request))
    form = SignupForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        try:
            user = investor_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                company=form.cleaned_data["company"],
                language=form.cleaned_data["language"],
            )
        except ValidationError as error:  # e.g. the same address signed up a moment ago
            form.add_error(None, error)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return _remember_language(HttpResponseRedirect(_safe_next(request)), user)
    return render(
        request, "accounts/signup.html", {"form": form, "next": request.GET.get("next", "")}
    )


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy.html")


# --- password reset and change (Django's views, our templates) ---------------------------


class LanguagePasswordResetForm(PasswordResetForm):
    """Django's reset form; the e-mail speaks the account's language, not the requester's."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        with translation.override(context["user"].language):
            super().send_mail(
                subject_template_name,
                email_template_name,
                context,
                from_email,
                to_email,
                html_email_template_name,
            )


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LanguagePasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # At most a few reset e-mails per requested address and per client address: counted
        # whether or not an account has the address, so the answer reveals nothing.
        wait = throttle_check(
            scope="password-reset-email",
            keys=[form.cleaned_data["email"].strip().lower()],
            limit=settings.PASSWORD_RESET_LIMIT_PER_EMAIL,
            window=timedelta(minutes=settings.PASSWORD_RESET_WINDOW_MINUTES),
        ) or throttle_check(
            scope="password-reset-client",
            keys=[client_address(self.request)],
            limit=settings.PASSWORD_RESET_LIMIT_PER_CLIENT,
            window=timedelta(minutes=settings.PASSWORD_RESET_WINDOW_MINUTES),
        )
        if wait:
            message = ngettext(
                "Too many password-reset requests. Please try again in %(minutes)d minute.",
                "Too many password-reset requests. Please try again in %(minutes)d minutes.",
                minutes_until(wait),
            ) % {"minutes": minutes_until(wait)}
            form.add_error(None, message)
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        # The link in the e-mail points at SITE_URL, never at the request's Host header.
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("password_change_done")


# --- invitations of municipal partners ---------------------------------------------------


def _workspace_url() -> str:
    try:
        return reverse("partner_dashboard")
    except NoReverseMatch:  # the partner pages are not there yet
        return resolve_url(settings.LOGIN_REDIRECT_URL)


@staff_required
def staff_invite(request: HttpRequest) -> HttpResponse:
    """Staff invite a partner user (into an existing or a new organisation)."""
    staff = gated_user(request)
    form = PartnerInviteForm(request.POST or None, initial={"language": request.LANGUAGE_CODE})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                organisation = data["organisation"] or partner_organisation_create(
                    name=data["new_organisation_name"],
                    municipalities=data["new_organisation_municipalities"],
                    acting_user=staff,
                )
                user = partner_invite(
                    email=data["email"],
                    organisation=organisation,
                    language=data["language"],
                    acting_user=staff,
                )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s (%(organisation)s).")
                % {"email": user.email, "organisation": organisation.name},
            )
            return redirect("staff_invite")
    return render(request, "accounts/staff_invite.html", {"form": form})


@sensitive_post_parameters("new_password1", "new_password2")
def invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link of an invitation: the partner sets a password and is logged in."""
    user = invited_user_for_link(uidb64=uidb64, token=token)
    if user is None:
        return render(request, "accounts/invitation_invalid.html", status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        invitation_accept(user=user, password=form.cleaned_data["new_password1"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome to sitefinder! Your account is ready."))
        return _remember_language(HttpResponseRedirect(_workspace_url()), user)
    return render(
        request,
        "accounts/invitation.html",
        {"form": form, "invited": user, "organisation": user.organisation},
    )


def language_set(request: HttpRequest) -> HttpResponse:
    """The language switcher: Django's set_language (the cookie for visitors, the page
    again in the chosen language), and for a logged-in user the account's language, which
    the pages after login and the e-mails follow."""
    # Django's set_language translates `next` with translate_url(), which only finds a path
    # in the active language: make the page's own language (its prefix) the active one.
    next_url = request.POST.get("next", request.GET.get("next", "")) or ""
    with translation.override(translation.get_language_from_path(urlsplit(next_url).path)):
        response = i18n_views.set_language(request)
    language = request.POST.get("language", "")
    user = request.user
    if (
        request.method == "POST"
        and user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and user.language != language
    ):
        User.objects.filter(pk=user.pk).update(language=language)
    return response
