"""Forms of the partner workspace: the site editor (attributes, geometry drawn on the map,
photos and documents) and the bulk upload."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import GEOSException, GEOSGeometry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import PartnerOrganisation, User
from geodata.models import STORAGE_SRID, Municipality
from properties.models import (
    OFFER_FIELDS,
    TRANSLATABLE_FIELDS,
    Site,
    clean_translations,
    translation_languages,
)
from properties.services.media import document_check, photo_check
from properties.services.sites import site_municipality_for
from properties.services.upload import MAX_AREA_M2, MAX_PRICE_EUR_M2, SUFFIXES

# The editor's fieldsets: (legend, field names). Every attribute of the minimum attribute
# set a person enters; status (workflow), municipality (derived from the geometry), the
# generated geometry columns and the stored distances are not among them.
FIELDSETS: tuple[tuple[Any, tuple[str, ...]], ...] = (
    (_("The site"), ("title", "partner_ref", "kind", "description", "street", "postcode")),
    (
        _("Area"),
        ("gross_area_m2", "net_area_m2", "is_divisible", "min_divisible_m2", "max_divisible_m2"),
    ),
    (
        _("Planning and restrictions"),
        (
            "planning_category",
            "bplan_status",
            "restriction_class",
            "restrictions",
            "restriction_notes",
        ),
    ),
    (_("Ownership and availability"), ("ownership", "available_from")),
    (
        _("Offer and price"),
        (*OFFER_FIELDS, "price_on_request", "price_negotiable"),
    ),
    (
        _("Servicing and transport"),
        (
            "has_water",
            "has_sewer",
            "has_power",
            "has_gas_heat",
            "broadband",
            "has_rail_siding",
            "has_port_access",
        ),
    ),
    (_("Contact"), ("contact_name", "contact_email", "contact_phone")),
)
SITE_FORM_FIELDS = tuple(name for _legend, names in FIELDSETS for name in names)
PLOT_GEOMETRIES = ("Polygon", "MultiPolygon")
PREMISES_GEOMETRIES = ("Point", "Polygon", "MultiPolygon")
MIN_POLYGON_AREA_M2 = 10
# The area entered may differ from the drawn one (net of roads, a rough sketch), but not
# by orders of magnitude: that is a typo in one of them.
AREA_RATIO_LIMIT = 10
# Rents, ground rents and additional costs per m² above this are a typo.
MAX_MONTHLY_EUR_M2 = Decimal(1000)


TRANSLATION_LABELS = {
    "title": _("title"),
    "description": _("description"),
    "restriction_notes": _("restriction notes"),
}


def translation_field_name(language: str, field: str) -> str:
    return f"{field}__{language.replace('-', '_')}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented recipe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class SiteForm(forms.ModelForm):
    """A site's attributes, its geometry as GeoJSON in EPSG:4326 (drawn on the map), the
    version the form was loaded at, and new photos and documents."""

    geometry = forms.CharField(
        label=_("Geometry"),
        widget=forms.HiddenInput,
        error_messages={"required": _("Draw the site on the map.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1)
    photos = MultipleFileField(
        label=_("Add photos"),
        help_text=_("JPEG, PNG or WebP, at most 10 MB each, at least 400 px wide."),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
    )
    documents = MultipleFileField(
        label=_("Add documents"),
        help_text=_("PDF, at most 20 MB each."),
        widget=MultipleFileInput(attrs={"accept": "application/pdf"}),
    )
    restrictions = forms.MultipleChoiceField(
        label=_("restrictions"),
        choices=Site.Restriction.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )

    offer_types = forms.MultipleChoiceField(
        label=_("offer type"),
        choices=Site.OfferType.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Empty: read from the prices given (plots: sale, premises: rent)."),
    )

    class Meta:
        model = Site
        fields = SITE_FORM_FIELDS
        widgets = {
            "available_from": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "description": forms.Textarea(attrs={"rows": 4}),
            "restriction_notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.geom: GEOSGeometry | None = None
        self.municipality: Municipality | None = None
        if user.is_agency_staff:
            self.fields["organisation"] = forms.ModelChoiceField(
                label=_("partner organisation"),
                queryset=PartnerOrganisation.objects.all(),
                required=False,
                initial=self.instance.organisation_id,
            )
        self._add_translation_fields()

    def _add_translation_fields(self) -> None:
        """Title, description and restriction notes in the other languages, optional: the
        German text above is the original; only what a person wrote is shown to readers."""
        stored = self.instance.translations or {}
        for language in translation_languages():
            for field in TRANSLATABLE_FIELDS:
                widget = (
                    forms.TextInput(attrs={"lang": language})
                    if field == "title"
                    else forms.Textarea(attrs={"rows": 3, "lang": language})
                )
                self.fields[translation_field_name(language, field)] = forms.CharField(
                    label=TRANSLATION_LABELS[field],
                    required=False,
                    max_length=200 if field == "title" else None,
                    widget=widget,
                    initial=(stored.get(language) or {}).get(field, ""),
                )

    def translation_tabs(self) -> list[dict[str, Any]]:
        """One tab (a <details>) per language with its three fields."""
        names = dict(settings.LANGUAGES)
        stored = self.instance.translations or {}
        return [
            {
                "code": language,
                "name": names[language],
                "given": bool(stored.get(language)),
                "fields": [
                    self[translation_field_name(language, field)] for field in TRANSLATABLE_FIELDS
                ],
            }
            for language in translation_languages()
        ]

    def fieldsets(self) -> list[dict[str, Any]]:
        sets = [
            {"legend": legend, "fields": [self[name] for name in names]}
            for legend, names in FIELDSETS
        ]
        if "organisation" in self.fields:
            sets[0]["fields"].append(self["organisation"])
        return sets

    def media_fields(self) -> list[forms.BoundField]:
        return [self["photos"], self["documents"]]

    def allowed_municipalities(self):
        if self.user.is_agency_staff:
            return Municipality.objects.all()
        return Municipality.objects.filter(partner_organisations__members=self.user)

    def clean_geometry(self) -> GEOSGeometry:
        text = self.cleaned_data["geometry"]
        try:
            data = json.loads(text)
            if isinstance(data, dict) and data.get("type") == "Feature":
                data = data.get("geometry")
            geom = GEOSGeometry(json.dumps(data), srid=4326)
        except (ValueError, TypeError, GEOSException, GDALException):
            raise ValidationError(
                _("The geometry could not be read; draw the site again."), code="unreadable"
            ) from None
        if geom.empty:
            raise ValidationError(_("Draw the site on the map."), code="empty")
        if not geom.valid:
            raise ValidationError(
                _("The drawn shape is not valid (%(reason)s); draw it again.")
                % {"reason": geom.valid_reason},
                code="invalid",
            )
        geom.srid = 4326
        return geom.transform(STORAGE_SRID, clone=True)

    def clean_photos(self) -> list:
        photos = self.cleaned_data["photos"]
        errors = []
        for photo in photos:
            try:
                photo_check(photo)
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return photos

    def clean_documents(self) -> list:
        documents = self.cleaned_data["documents"]
        errors = []
        for document in documents:
            try:
                document_check(document)
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return documents

    def _clean_translations(self, cleaned: dict[str, Any]) -> None:
        """The other languages' texts into the instance (not a model field of the form)."""
        given = {
            language: {
                field: cleaned.get(translation_field_name(language, field), "")
                for field in TRANSLATABLE_FIELDS
            }
            for language in translation_languages()
        }
        try:
            self.instance.translations = clean_translations(given)
        except ValidationError as error:
            self.add_error(None, error.messages)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._clean_translations(cleaned)
        geom = cleaned.get("geometry")
        kind = cleaned.get("kind")
        if geom is None:
            return cleaned
        allowed = PLOT_GEOMETRIES if kind == Site.Kind.PLOT else PREMISES_GEOMETRIES
        if geom.geom_type not in allowed:
            message = (
                _("Draw a plot as a polygon.")
                if kind == Site.Kind.PLOT
                else _("Place premises as a marker or draw their footprint as a polygon.")
            )
            self.add_error("geometry", ValidationError(message, code="geometry_type"))
            return cleaned
        if geom.geom_type != "Point":
            if geom.area < MIN_POLYGON_AREA_M2:
                self.add_error("geometry", _("The drawn shape is too small; draw it again."))
                return cleaned
            if geom.area > MAX_AREA_M2:
                self.add_error(
                    "geometry", _("The drawn shape is larger than 5,000 ha; draw it again.")
                )
                return cleaned
        try:
            municipality = site_municipality_for(geom)
        except ValidationError as error:
            self.add_error("geometry", error.message_dict.get("geom", error.messages))
            return cleaned
        if not self.allowed_municipalities().filter(pk=municipality.pk).exists():
            self.add_error(
                "geometry",
                ValidationError(
                    _("The site lies in %(municipality)s, which is not one of your municipalities.")
                    % {"municipality": municipality.name},
                    code="foreign_municipality",
                ),
            )
            return cleaned
        self.geom, self.municipality = geom, municipality
        self._check_plausible(cleaned, geom)
        return cleaned

    def _check_plausible(self, cleaned: dict[str, Any], geom: GEOSGeometry) -> None:
        gross = cleaned.get("gross_area_m2")
        if gross is not None and gross > MAX_AREA_M2:
            self.add_error("gross_area_m2", _("More than 5,000 ha is not plausible."))
        elif gross and geom.geom_type != "Point":
            ratio = max(gross, geom.area) / max(min(gross, geom.area), 1)
            if ratio > AREA_RATIO_LIMIT:
                self.add_error(
                    "gross_area_m2",
                    _(
                        "%(gross)s m² is far from the drawn area (%(drawn)s m²): check the "
                        "number or the drawing."
                    )
                    % {"gross": round(gross), "drawn": round(geom.area)},
                )
        net = cleaned.get("net_area_m2")
        if gross is not None and net is not None and net > gross:
            self.add_error("net_area_m2", _("The net area cannot be larger than the gross area."))
        smallest, largest = cleaned.get("min_divisible_m2"), cleaned.get("max_divisible_m2")
        if smallest is not None and largest is not None and smallest > largest:
            self.add_error(
                "min_divisible_m2",
                _("The smallest part cannot be larger than the largest part."),
            )
        price = cleaned.get("price_eur_m2")
        if price is not None and not (Decimal(0) <= price <= MAX_PRICE_EUR_M2):
            self.add_error("price_eur_m2", _("A price from 0 to 10,000 €/m² is plausible."))
        for name in (
            "rent_eur_m2_month",
            "ground_rent_eur_m2_year",
            "service_charges_eur_m2_month",
        ):
            value = cleaned.get(name)
            if value is not None and value > MAX_MONTHLY_EUR_M2:
                self.add_error(name, _("A figure from 0 to 1,000 €/m² is plausible."))
        self._clean_offer(cleaned)

    def _clean_offer(self, cleaned: dict[str, Any]) -> None:
        """A figure of an offer type the site is not offered as is an error on the figure:
        a rent on a site for sale only would never be found by the rent filter."""
        offers = set(cleaned.get("offer_types") or [])
        if not offers:
            return
        needs = {
            "price_eur_m2": Site.OfferType.SALE,
            "price_total_eur": Site.OfferType.SALE,
            "rent_eur_m2_month": Site.OfferType.RENT,
            "ground_rent_eur_m2_year": Site.OfferType.LEASEHOLD,
        }
        labels = dict(Site.OfferType.choices)
        for name, offer in needs.items():
            if cleaned.get(name) is not None and offer not in offers:
                self.add_error(
                    name,
                    _("Tick “%(offer)s” as an offer type, or leave this empty.")
                    % {"offer": labels[offer]},
                )


DECLARED_CRS_CHOICES = (
    ("", _("Detect from the file")),
    ("4326", "EPSG:4326 (WGS 84, longitude/latitude)"),
    ("25832", "EPSG:25832 (ETRS89 / UTM 32N)"),
)


class UploadForm(forms.Form):
    """The bulk upload's file, the declared CRS and (staff) the organisation."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("GeoJSON, zipped Shapefile, GeoPackage, CSV (WKT or lon/lat) or XLSX."),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(sorted(SUFFIXES))}),
    )
    declared_srid = forms.TypedChoiceField(
        label=_("Coordinate system"),
        choices=DECLARED_CRS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )
    source_name = forms.CharField(
        label=_("Name of the list (optional)"),
        help_text=_(
            "If you keep several lists, name this one: sites not in this file are looked "
            "for only among the sites uploaded with the same name."
        ),
        max_length=200,
        required=False,
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user.is_agency_staff:
            self.fields["organisation"] = forms.ModelChoiceField(
                label=_("Partner organisation"), queryset=PartnerOrganisation.objects.all()
            )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        suffix = "." + (upload.name or "").rsplit(".", 1)[-1].lower() if upload.name else ""
        if suffix not in SUFFIXES:
            raise ValidationError(
                _("Files of this type are not accepted; use %(formats)s.")
                % {"formats": ", ".join(sorted(set(SUFFIXES.values())))}
            )
        return upload
