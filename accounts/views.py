"""Investor accounts: sign-up, login, logout and the privacy notice they consent to."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters

from .forms import LoginForm, SignupForm
from .models import User
from .services.signup import investor_signup


def _remember_language(response: HttpResponse, user: User) -> HttpResponse:
    """After login, the pages speak the user's preferred language (LocaleMiddleware reads
    the language cookie, as the language switcher sets it)."""
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
