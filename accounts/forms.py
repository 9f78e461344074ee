"""Forms of the accounts: investors' sign-up and login with the e-mail address, staff's
invitation of municipal partners."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import PartnerOrganisation
from geodata.models import Municipality

from .models import User
from .services.signup import normalise_email


class LoginForm(AuthenticationForm):
    """Django's login form; investors log in with their e-mail address (their username)."""

    username = forms.CharField(
        label=_("E-mail or username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        # Investors' usernames are their e-mail address in lower case.
        return normalise_email(username) if "@" in username else username


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=150,  # it becomes the username, which holds 150 characters
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=lazy(password_validation.password_validators_help_text_html, str)(),
    )
    password2 = forms.CharField(
        label=_("Password (again)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    company = forms.CharField(label=_("Company (optional)"), max_length=200, required=False)
    language = forms.ChoiceField(
        label=_("Preferred language"),
        choices=User.Language.choices,
        help_text=_("For the pages after login and for e-mails."),
    )
    consent = forms.BooleanField(
        label=_(
            "I have read the privacy notice and agree to my data being processed as described there."
        ),
        required=True,
    )

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        if (
            User.objects.filter(username__iexact=email).exists()
            or User.objects.filter(email__iexact=email).exists()
        ):
            raise ValidationError(_("An account with this e-mail address already exists."))
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2:
            if password1 != password2:
                self.add_error("password2", _("The two passwords do not match."))
            else:
                email = cleaned.get("email", "")
                candidate = User(username=email, email=email, company=cleaned.get("company", ""))
                try:
                    password_validation.validate_password(password1, candidate)
                except ValidationError as error:
                    self.add_error("password1", error)
        return cleaned


class PartnerInviteForm(forms.Form):
    """Staff invite a municipal partner into an existing organisation or a new one."""

    email = forms.EmailField(
        label=_("E-mail"), max_length=150, widget=forms.EmailInput(attrs={"autofocus": True})
    )
    organisation = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=PartnerOrganisation.objects.order_by("name"),
        required=False,
        help_text=_("Or leave empty and create a new organisation below."),
    )
    new_organisation_name = forms.CharField(
        label=_("New organisation: name"), max_length=200, required=False
    )
    new_organisation_municipalities = forms.ModelMultipleChoiceField(
        label=_("New organisation: municipalities"),
        queryset=Municipality.objects.order_by("name"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation"),
        choices=User.Language.choices,
        help_text=_("Also the language of the partner's pages and e-mails."),
    )

    def clean_email(self) -> str:
        email = normalise_email(self.cleaned_data["email"])
        if (
            User.objects.filter(username__iexact=email).exists()
            or User.objects.filter(email__iexact=email).exists()
        ):
            raise ValidationError(_("An account with this e-mail address already exists."))
        return email

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        organisation = cleaned.get("organisation")
        name = " ".join(cleaned.get("new_organisation_name", "").split())
        municipalities = cleaned.get("new_organisation_municipalities")
        if organisation and name:
            self.add_error(
                "new_organisation_name",
                _("Choose an organisation or name a new one, not both."),
            )
        elif not organisation and not name:
            self.add_error("organisation", _("Choose an organisation or name a new one."))
        elif name:
            if PartnerOrganisation.objects.filter(name__iexact=name).exists():
                self.add_error(
                    "new_organisation_name", _("An organisation with this name already exists.")
                )
            if not municipalities:
                self.add_error(
                    "new_organisation_municipalities",
                    _("Choose the municipalities whose sites the new organisation keeps."),
                )
        cleaned["new_organisation_name"] = name
        return cleaned
