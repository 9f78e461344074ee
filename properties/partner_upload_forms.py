"""Forms of the bulk upload's report: the mapping step (a column or value the app did not
understand → a field or code of the organisation's choosing) and the commit (the valid rows
only, after a confirmation; the sites not in this upload kept or withdrawn)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Site
from .services.upload import UploadReport, vocabulary
from .services.upload.reading import GEOMETRY_LABELS

TABLE_FORMATS = ("CSV", "XLSX")

IGNORE = "-"


def site_field_label(name: str) -> str:
    try:
        field = Site._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))


def mappable_fields(*, geometry: bool) -> list[tuple[str, Any]]:
    """The targets a column may be read as: the site fields the upload reads, by label, and
    (for tables) the geometry's columns; grouped for the select."""
    fields = sorted(
        ((name, site_field_label(name)) for name in vocabulary.FIELDS),
        key=lambda item: item[1].lower(),
    )
    groups: list[tuple[str, Any]] = [(str(_("Fields of the site")), fields)]
    if geometry:
        roles = [(role, str(label())) for role, label in GEOMETRY_LABELS.items()]
        groups.append((str(_("Location")), roles))
    return groups


def field_codes(name: str) -> list[tuple[str, str]]:
    """The codes a coded field accepts, with their labels (yes / no for a yes-no field)."""
    if vocabulary.FIELDS.get(name) not in ("choice", "bool"):
        return []  # the core maps values of coded fields only
    try:
        field = Site._meta.get_field(name)
    except FieldDoesNotExist:
        return []
    if isinstance(field, models.BooleanField):
        return [("true", str(_("yes"))), ("false", str(_("no")))]
    choices = getattr(field, "choices", None) or []
    base_field = getattr(field, "base_field", None)
    if not choices and base_field is not None:  # an ArrayField of codes
        choices = base_field.choices or []
    return [(str(code), str(label)) for code, label in choices]


class MappingForm(forms.Form):
    """One choice per column not used and per value not understood; the report is the
    job's stored one, so the form is rebuilt from it when posted (`revision` says which)."""

    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, report: UploadReport, revision: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current_revision = revision
        self.fields["revision"].initial = revision
        self.column_fields: list[tuple[str, Any]] = []  # (form field name, ColumnReading)
        self.value_fields: list[tuple[str, str, str]] = []  # (form field name, field, raw)
        targets = [
            ("", _("not used")),
            (IGNORE, _("ignore this column")),
            *mappable_fields(geometry=report.format in TABLE_FORMATS),
        ]
        for number, column in enumerate(c for c in report.columns if c.status == "not_used"):
            name = f"column_{number}"
            self.fields[name] = forms.ChoiceField(
                label=column.header, choices=targets, required=False, help_text=column.hint
            )
            self.column_fields.append((name, column))
        number = 0
        for field, raws in sorted(report.unknown_values.items()):
            codes = field_codes(field)
            if not codes:
                continue
            for raw in raws:
                name = f"value_{number}"
                self.fields[name] = forms.ChoiceField(
                    label=raw,
                    choices=[("", _("leave it (the row is rejected)")), *codes],
                    required=False,
                )
                self.fields[name].site_field = field  # type: ignore[attr-defined]
                self.fields[name].site_field_label = site_field_label(field)  # type: ignore[attr-defined]
                self.value_fields.append((name, field, raw))
                number += 1

    @property
    def has_choices(self) -> bool:
        return bool(self.column_fields or self.value_fields)

    def column_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name, _column in self.column_fields]

    def value_groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The value choices grouped by the field they belong to (label, fields)."""
        groups: dict[str, list[forms.BoundField]] = {}
        for name, field, _raw in self.value_fields:
            groups.setdefault(site_field_label(field), []).append(self[name])
        return list(groups.items())

    def clean_revision(self) -> int:
        revision = self.cleaned_data["revision"]
        if revision != self.current_revision:
            raise ValidationError(
                _("The report has changed since this page was loaded; choose again below.")
            )
        return revision

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.errors and not self.mappings():
            raise ValidationError(_("Choose a field for a column or a code for a value first."))
        return cleaned

    def mappings(self) -> list[dict[str, str]]:
        """The choices made, as arguments of upload_mapping_set."""
        chosen = []
        data = getattr(self, "cleaned_data", {})
        for name, column in self.column_fields:
            target = data.get(name)
            if target:
                chosen.append(
                    {
                        "kind": "column",
                        "field": "" if target == IGNORE else target,
                        "source": column.header,
                        "value": "",
                    }
                )
        for name, field, raw in self.value_fields:
            code = data.get(name)
            if code:
                chosen.append({"kind": "value", "field": field, "source": raw, "value": code})
        return chosen


class CommitForm(forms.Form):
    """Commit the checked file: with rejected rows, only after confirming that they stay
    out; the sites not in this upload are kept unless withdrawn (each, or all)."""

    leave_out = forms.BooleanField(required=False)
    withdraw_all = forms.BooleanField(
        label=_("Withdraw all sites not in this upload"), required=False
    )
    withdraw = forms.TypedMultipleChoiceField(
        label=_("Withdraw these sites"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, counts: dict[str, int], missing: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rejected = counts.get("reject", 0)
        self.valid = sum(counts.get(action, 0) for action in ("create", "update", "unchanged"))
        self.fields["leave_out"].label = ngettext(
            "Leave the %(count)s rejected row out: it is not written.",
            "Leave the %(count)s rejected rows out: they are not written.",
            self.rejected,
        ) % {"count": self.rejected}
        self.fields["withdraw"].choices = [  # type: ignore[attr-defined]
            (site.site_id, f"{site.title} ({site.partner_ref})" if site.partner_ref else site.title)
            for site in missing
        ]
        if not missing:
            del self.fields["withdraw"], self.fields["withdraw_all"]

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean() or {}
        if not self.valid:
            raise ValidationError(_("No row of this file can be committed."))
        if self.rejected and not cleaned.get("leave_out"):
            self.add_error(
                "leave_out",
                ngettext(
                    "Confirm that the rejected row stays out, or correct the file.",
                    "Confirm that the %(count)s rejected rows stay out, or correct the file.",
                    self.rejected,
                )
                % {"count": self.rejected},
            )
        return cleaned

    def withdraw_missing(self) -> list[int] | str:
        if self.cleaned_data.get("withdraw_all"):
            return "all"
        return list(self.cleaned_data.get("withdraw") or [])
