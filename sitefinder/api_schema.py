"""The OpenAPI schema says what the API really does (checked by schemathesis `--checks all`,
tests/api/test_api_contract.py and `make api-contract`):

- an endpoint anyone may read is shown as public (no security requirement, no padlock),
  rather than as needing the session that SessionAuthentication lists for every operation;
- every filter parameter carries the limits its form field enforces (minimum/maximum,
  enums, patterns), so what the schema calls valid is accepted;
- every operation documents its error answers (400/403/404/405/413/429/503, always JSON)
  and each export its file's media type."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import DatabaseError
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.drainage import get_override
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_manager, get_view_model
from rest_framework.permissions import SAFE_METHODS, AllowAny


class SiteAutoSchema(AutoSchema):
    def get_auth(self) -> list[dict[str, list[str]]]:
        permissions = self.view.get_permissions()
        method = self.method.upper()
        if all(_lets_anyone(permission, method) for permission in permissions):
            return []
        return super().get_auth()


def _lets_anyone(permission: Any, method: str) -> bool:
    # A permission that lets every safe request through (`public_reads = True`, e.g.
    # CanEditSite: the queryset decides what is visible) makes a read public.
    if isinstance(permission, AllowAny):
        return True
    return method in SAFE_METHODS and getattr(permission, "public_reads", False)


# --- filter parameters: the form fields' own limits --------------------------------------


def _json_number(value: Any) -> int | float:
    number = float(value)
    return int(number) if number.is_integer() else number


def field_schema_constraints(field: forms.Field) -> dict[str, Any]:
    """The JSON-schema keywords that describe what `field` accepts: bounds of a number,
    the choices of a choice field (the empty choice is "no filter", not a value), the
    `schema_pattern` a text field declares."""
    constraints: dict[str, Any] = {}
    if isinstance(field, forms.ModelMultipleChoiceField | forms.ModelChoiceField):
        to_field = field.to_field_name or "pk"
        queryset = field.queryset
        constraints["type"] = "string"
        try:
            values = (
                list(queryset.order_by(to_field).values_list(to_field, flat=True))
                if queryset is not None
                else []
            )
        except DatabaseError:
            # No database to ask (`check --deploy` on a build machine): any string, then.
            return constraints
        constraints["enum"] = [str(value) for value in values]
    elif isinstance(field, forms.ChoiceField):
        choices: Any = field.choices
        values = [str(key) for key, _label in choices if key not in ("", None)]
        constraints["type"] = "string"
        constraints["enum"] = sorted(values)
    elif isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        if field.min_value is not None:
            constraints["minimum"] = _json_number(field.min_value)
        if field.max_value is not None:
            constraints["maximum"] = _json_number(field.max_value)
    pattern = getattr(field, "schema_pattern", None)
    if pattern:
        constraints["type"] = "string"
        constraints["pattern"] = pattern
    return constraints


class ConstrainedDjangoFilterExtension(DjangoFilterExtension):
    """drf-spectacular's django-filter parameters, each narrowed to what the filter's form
    field accepts (drf-spectacular itself knows only the type)."""

    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        model = get_view_model(auto_schema.view)
        if not model or not parameters:
            return parameters
        filterset_class = self.target.get_filterset_class(
            auto_schema.view, get_manager(model).none()
        )
        fields = filterset_class(queryset=get_manager(model).none()).form.fields
        unavailable_parameters, unavailable_sorts = set(), set()
        if hasattr(filterset_class, "schema_unavailable"):
            unavailable_parameters, unavailable_sorts = filterset_class.schema_unavailable()
        parameters = [p for p in parameters if p["name"] not in unavailable_parameters]
        for parameter in parameters:
            field = fields.get(parameter["name"])
            filter_field = filterset_class.base_filters.get(parameter["name"])
            # A filter given a whole schema by hand (extend_schema_field({...})) keeps it.
            if field is None or isinstance(get_override(filter_field, "field"), dict):
                continue
            schema = parameter["schema"]
            target = schema["items"] if schema.get("type") == "array" else schema
            target.update(field_schema_constraints(field))
            # An empty value (`?available_by=`) is the filter left out, as in a GET form.
            if target is schema and not field.required:
                parameter["allowEmptyValue"] = True
            if parameter["name"] == "sort" and "enum" in target:
                target["enum"] = [key for key in target["enum"] if key not in unavailable_sorts]
        return parameters


# --- error answers and export media types ------------------------------------------------

# The errors every endpoint can answer, documented once for all (the exception handler's
# shape: {"field": ["message"]} or {"detail": "..."}; a 404 or 405 of any /api/ path, even
# one no view matches, is JSON too).
ERROR_SCHEMA = {
    "type": "object",
    "description": 'Names the field: {"area_min": ["..."]}, or {"detail": "..."}.',
    "additionalProperties": True,
}
_ERROR = {"application/json": {"schema": ERROR_SCHEMA}}
_ERRORS = {
    "400": "Invalid parameters or body; the answer names each field.",
    "403": "Not allowed: not signed in, no CSRF token, or not your object.",
    "404": "No such object, or a page beyond the last one.",
    "405": "Method not allowed.",
    "413": "Request body too large.",
    "429": "Too many requests from this client; Retry-After says how long to wait.",
    "503": "The database is unavailable for a moment; Retry-After says when to try again.",
}
# Exports answer files, not JSON (the path's suffix names the format); the GeoJSON export
# is described by its schema (EXPORT_GEOJSON_SCHEMA).
_EXPORT_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXPORT_GEOJSON_SCHEMA = {
    "type": "object",
    "required": ["type", "features", "attribution"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "attribution": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The credit lines of every source (once, not per feature).",
        },
        "columns": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "Each property's label in the response language.",
        },
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "geometry": {"type": "object", "nullable": True},
                    "properties": {"type": "object", "additionalProperties": True},
                },
            },
        },
    },
    "additionalProperties": True,
}


def document_errors_and_files(result: dict, generator, request, public: bool) -> dict:
    """drf-spectacular post-processing: every operation lists the error statuses it can
    answer with their JSON shape (a view's own description kept), and each export its
    file's media type."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                response = responses.setdefault(status, {"description": description})
                response["content"] = _ERROR
            for suffix, media_type in _EXPORT_TYPES.items():
                if path.endswith(suffix) and "200" in responses:
                    responses["200"]["content"] = {
                        media_type: {"schema": {"type": "string", "format": "binary"}}
                    }
            if path.endswith(".geojson") and "200" in responses:
                responses["200"]["content"] = {
                    "application/geo+json": {"schema": EXPORT_GEOJSON_SCHEMA}
                }
    return result
