"""The public inquiry form: contact details, consent, and the requirement profile, with the
spam protection that needs no third party (a honeypot field and a signed render time).

The form speaks people's units (hectares or m², kilometres); `InquiryForm.inquiry_data()`
turns what was entered into the model's fields (m², metres, EPSG:25832)."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.contrib.gis.measure import D
from django.core import signing
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from geodata.models import STORAGE_SRID, Municipality, Region
from properties.api.filters import SearchAreaField
from properties.models import Site

# A drawn area may reach this far beyond the region (a site just across the border).
REGION_MARGIN_M = 10_000
# A form older than this was probably left open (or its token replayed): render it anew.
MAX_FILL_SECONDS = 24 * 60 * 60
RENDERED_SALT = "proposals.inquiry-form.rendered"
HONEYPOT_FIELD = "website"

MAX_AREA_HA = Decimal(100_000)
MAX_DISTANCE_KM = Decimal(1_000)
MAX_BUDGET_EUR_M2 = Decimal("999999.99")
MAX_JOBS = 1_000_000

# Maximum distance fields: form field -> model field (metres).
DISTANCE_FIELDS = {
    "max_distance_junction_km": "max_distance_junction_m",
    "max_distance_station_km": "max_distance_station_m",
    "max_distance_airport_km": "max_distance_airport_m",
    "max_distance_port_km": "max_distance_port_m",
    "max_distance_university_km": "max_distance_university_m",
}
# The reference layer each distance is measured to (geodata.layers).
DISTANCE_LAYERS = {
    "max_distance_junction_km": "junctions",
    "max_distance_station_km": "stations",
    "max_distance_airport_km": "airports",
    "max_distance_port_km": "ports",
    "max_distance_university_km": "universities",
}


class _TimestampSigner(signing.TimestampSigner):
    """Signs "rendered at" with a given time (tests render a form "5 minutes ago")."""

    def __init__(self, at: float | None = None) -> None:
        super().__init__(salt=RENDERED_SALT)
        self.at = at

    def timestamp(self) -> str:
        return signing.b62_encode(int(self.at if self.at is not None else time.time()))


def rendered_token(at: float | None = None) -> str:
    """The hidden field's value: when the form was rendered, signed so it cannot be forged."""
    return _TimestampSigner(at).sign("inquiry")


def _positive(value: Decimal | int | None) -> None:
    if value is not None and value <= 0:
        raise forms.ValidationError(_("Give a number greater than zero."), code="positive")


def _number(label: Any, maximum: Decimal, help_text: Any = "", **kwargs: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        max_value=maximum,
        max_digits=12,
        decimal_places=4,
        validators=[_positive],
        help_text=help_text,
        widget=forms.NumberInput(attrs={"step": "any", "min": "0", "inputmode": "decimal"}),
        **kwargs,
    )


class SpamProtectedForm(forms.Form):
    """What every public form of ours carries against bots, with no third party: a
    honeypot field (the view drops the submission quietly when it is filled in) and the
    signed time the form was rendered (faster than a person can type is refused)."""

    rendered = forms.CharField(required=False, widget=forms.HiddenInput)
    # The honeypot: hidden from people (and skipped by screen readers); bots fill it in.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def clean_rendered(self) -> str:
        token = self.cleaned_data.get("rendered") or ""
        signer = _TimestampSigner()
        try:
            signer.unsign(token, max_age=MAX_FILL_SECONDS)
        except signing.SignatureExpired:
            raise forms.ValidationError(
                _(
                    "This form was opened more than a day ago. Everything you entered is still "
                    "here: please check it and send it again."
                ),
                code="stale",
            ) from None
        except signing.BadSignature:
            raise forms.ValidationError(
                _("The form could not be checked. Please send it again."), code="tampered"
            ) from None
        # People need longer than this to fill in the form; bots do not.
        min_fill_seconds = settings.SITEFINDER_FORM_MIN_FILL_SECONDS
        if min_fill_seconds <= 0:
            return token
        try:
            signer.unsign(token, max_age=min_fill_seconds)
        except signing.SignatureExpired:
            return token  # old enough: filled in by a person
        raise forms.ValidationError(
            _(
                "That was faster than a person can fill in the form. Please check your "
                "entries and send the form again."
            ),
            code="too_fast",
        )


class InquiryForm(SpamProtectedForm):
    # --- who ---
    company = forms.CharField(
        label=_("Company"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    contact_name = forms.CharField(
        label=_("Contact person"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label=_("E-mail"),
        help_text=_("We send the confirmation and our proposal to this address."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    language = forms.ChoiceField(label=_("Language for our answer"), choices=User.Language.choices)

    # --- what ---
    kinds = forms.MultipleChoiceField(
        label=_("Kind of site"),
        choices=Site.Kind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick all that would do; none ticked means any kind."),
    )
    area_min = _number(_("Area from"), MAX_AREA_HA * 10_000)
    area_max = _number(_("Area to"), MAX_AREA_HA * 10_000)
    area_unit = forms.ChoiceField(
        label=_("Unit of the area"), choices=[("m2", "m²"), ("ha", "ha")], initial="m2"
    )
    planning_categories = forms.MultipleChoiceField(
        label=_("Planning category"),
        choices=Site.PlanningCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("What the land-use plan allows there; none ticked means any category."),
    )
    budget_max_eur_m2 = _number(
        _("Budget at most (€/m²)"),
        MAX_BUDGET_EUR_M2,
        _("The most you would pay per square metre; leave empty if open."),
    )
    available_by = forms.DateField(
        label=_("Needed by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("The day you need the site by; leave empty if there is no deadline."),
    )
    industry = forms.CharField(
        label=_("Industry"),
        max_length=120,
        required=False,
        help_text=_("For example logistics, food production, data centre."),
    )
    jobs_planned = forms.IntegerField(
        label=_("Jobs planned"),
        required=False,
        min_value=1,
        max_value=MAX_JOBS,
        help_text=_("How many people will work there, roughly."),
    )

    # --- where ---
    municipalities = forms.ModelMultipleChoiceField(
        label=_("Preferred municipalities"),
        queryset=Municipality.objects.all(),
        to_field_name="ags",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked means anywhere in the region."),
    )
    area_of_interest = SearchAreaField(
        label=_("Area drawn on the map"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        help_text=_(
            "Draw the area on the map, or paste it as GeoJSON or as a WKT polygon "
            "(longitude/latitude). Leave empty if the municipalities say enough."
        ),
    )
    max_distance_junction_km = _number(_("Motorway junction at most (km)"), MAX_DISTANCE_KM)
    max_distance_station_km = _number(_("Railway station at most (km)"), MAX_DISTANCE_KM)
    max_distance_airport_km = _number(_("Airport at most (km)"), MAX_DISTANCE_KM)
    max_distance_port_km = _number(_("Port at most (km)"), MAX_DISTANCE_KM)
    max_distance_university_km = _number(_("University at most (km)"), MAX_DISTANCE_KM)
    needs_rail_siding = forms.BooleanField(label=_("A rail siding is needed"), required=False)
    needs_port_access = forms.BooleanField(label=_("Port access is needed"), required=False)

    message = forms.CharField(
        label=_("Anything else we should know (optional)"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    consent = forms.BooleanField(
        label=_(
            "I have read the privacy notice and agree that my details are stored and used to "
            "answer this inquiry."
        ),
        error_messages={
            "required": _("Please agree to the privacy notice: without it we cannot answer.")
        },
    )

    # --- machinery ---
    source_query = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)

    FIELDSETS = (
        (
            "contact",
            _("Your contact details"),
            ("company", "contact_name", "email", "phone", "language"),
        ),
        (
            "what",
            _("What you are looking for"),
            (
                "kinds",
                "planning_categories",
                "budget_max_eur_m2",
                "available_by",
                "industry",
                "jobs_planned",
            ),
        ),
        (
            "infrastructure",
            _("Transport and infrastructure"),
            (*DISTANCE_FIELDS, "needs_rail_siding", "needs_port_access"),
        ),
    )

    def __init__(self, *args: Any, layers_with_data: set[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not self.is_bound and "language" not in self.initial:
            self.initial["language"] = (get_language() or "de")[:2]
        self.layers_without_data = {
            name
            for name, layer in DISTANCE_LAYERS.items()
            if layers_with_data is not None and layer not in layers_with_data
        }
        for name in self.layers_without_data:
            self.fields[name].help_text = _(
                "We have no data for this yet, so we cannot check it automatically; we "
                "note your wish and check it by hand."
            )

    def fieldsets(self) -> list[dict[str, Any]]:
        return [
            {"slug": slug, "legend": legend, "fields": [self[name] for name in names]}
            for slug, legend, names in self.FIELDSETS
        ]

    def municipality_groups(self) -> list[dict[str, Any]]:
        """The municipalities as checkboxes grouped by district, with what is ticked."""
        field = self["municipalities"]
        raw = field.value() or []
        selected = {getattr(item, "ags", item) for item in raw}
        groups: dict[str, dict[str, Any]] = {}
        municipalities = Municipality.objects.select_related("district").order_by(
            "district__name", "name"
        )
        for number, municipality in enumerate(municipalities):
            group = groups.setdefault(
                municipality.district.ags, {"title": municipality.district.name, "choices": []}
            )
            group["choices"].append(
                {
                    "id": f"{field.auto_id}_{number}",
                    "value": municipality.ags,
                    "label": municipality.name,
                    "checked": municipality.ags in selected,
                }
            )
        return list(groups.values())

    # --- validation ---

    def clean_area_of_interest(self) -> MultiPolygon | None:
        geom: GEOSGeometry | None = self.cleaned_data.get("area_of_interest")
        if geom is None:
            return None
        metric = geom.transform(STORAGE_SRID, clone=True)
        if isinstance(metric, MultiPolygon):
            result = metric
        else:
            result = MultiPolygon(metric, srid=STORAGE_SRID)
        region = Region.objects.all()
        if (
            region.exists()
            and not region.filter(geom__dwithin=(result, D(m=REGION_MARGIN_M))).exists()
        ):
            raise forms.ValidationError(
                _("The drawn area lies outside the Ruhr area; draw it within the region."),
                code="outside",
            )
        return result

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        low, high = data.get("area_min"), data.get("area_max")
        if low is not None and high is not None and low > high:
            self.add_error(
                "area_max", _("The largest area is below the smallest; swap the two numbers.")
            )
        return data

    # --- result ---

    def inquiry_data(self) -> dict[str, Any]:
        """The model's fields from the cleaned form (call after is_valid())."""
        data = self.cleaned_data
        factor = Decimal(10_000) if data.get("area_unit") == "ha" else Decimal(1)
        result: dict[str, Any] = {
            name: data.get(name) or ""
            for name in ("company", "contact_name", "email", "phone", "message", "industry")
        }
        result.update(
            language=data["language"],
            kinds=list(data.get("kinds") or []),
            planning_categories=list(data.get("planning_categories") or []),
            area_min_m2=None if data.get("area_min") is None else float(data["area_min"] * factor),
            area_max_m2=None if data.get("area_max") is None else float(data["area_max"] * factor),
            budget_max_eur_m2=(
                None
                if data.get("budget_max_eur_m2") is None
                else data["budget_max_eur_m2"].quantize(Decimal("0.01"))
            ),
            available_by=data.get("available_by"),
            area_of_interest=data.get("area_of_interest"),
            needs_rail_siding=bool(data.get("needs_rail_siding")),
            needs_port_access=bool(data.get("needs_port_access")),
            jobs_planned=data.get("jobs_planned"),
            source_query=data.get("source_query") or "",
            municipalities=list(data.get("municipalities") or []),
        )
        for form_name, model_name in DISTANCE_FIELDS.items():
            km = data.get(form_name)
            result[model_name] = None if km is None else float(km * 1000)
        return result


class SiteQuestionForm(SpamProtectedForm):
    """ "Ask about this site": who asks and what, on the site's page; the same spam
    protection as the inquiry form. It becomes an inquiry tied to the site."""

    contact_name = forms.CharField(
        label=_("Your name"),
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    company = forms.CharField(
        label=_("Company (optional)"),
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    phone = forms.CharField(
        label=_("Phone (optional)"),
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    message = forms.CharField(
        label=_("Your question"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that my details are stored and passed to the site's municipal partner "
            "to answer this question (see the privacy notice)."
        ),
        error_messages={
            "required": _("Please agree to the privacy notice: without it we cannot answer.")
        },
    )

    def inquiry_data(self, site: Site) -> dict[str, Any]:
        """The inquiry's fields: the contact, the question, and the site's own kind and
        municipality as the requirement profile (matching starts from there)."""
        data = self.cleaned_data
        return {
            "company": data.get("company") or "",
            "contact_name": data["contact_name"],
            "email": data["email"],
            "phone": data.get("phone") or "",
            "message": data["message"],
            "language": (get_language() or "de")[:2],
            "kinds": [site.kind],
            "municipalities": [site.municipality] if site.municipality_id else [],
        }
