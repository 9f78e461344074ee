"""The OpenAPI schema's view of authentication: an endpoint anyone may call is shown as
public (no security requirement, no padlock in the docs) rather than as needing the session
that SessionAuthentication would otherwise list for every operation."""

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import AllowAny


class SiteAutoSchema(AutoSchema):
    def get_auth(self) -> list[dict[str, list[str]]]:
        permissions = self.view.get_permissions()
        if all(isinstance(permission, AllowAny) for permission in permissions):
            return []
        return super().get_auth()


# The errors every endpoint can answer, documented once for all (the exception handler's
# shape: {"field": ["message"]} or {"detail": "..."}).
_ERROR = {
    "application/json": {
        "schema": {
            "type": "object",
            "additionalProperties": True,
            "description": 'Names the field: {"area_min": ["..."]}, or {"detail": "..."}.',
        }
    }
}
_ERRORS = {
    "400": "Invalid parameters or body; the answer names each field.",
    "403": "Not allowed: not signed in, no CSRF token, or not your object.",
    "404": "No such object.",
    "405": "Method not allowed.",
    "413": "Request body too large.",
}
# Exports answer files, not JSON (the path's suffix names the format).
_EXPORT_TYPES = {
    ".csv": "text/csv",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".geojson": "application/geo+json",
}


def document_errors_and_files(result: dict, generator, request, public: bool) -> dict:
    """drf-spectacular post-processing: every operation lists the error statuses it can
    answer with their JSON shape, and each export its file's media type."""
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _ERRORS.items():
                # 404 also for lists: a page number beyond the last page.
                responses.setdefault(status, {"description": description, "content": _ERROR})
            for suffix, media_type in _EXPORT_TYPES.items():
                if path.endswith(suffix) and "200" in responses:
                    responses["200"]["content"] = {
                        media_type: {"schema": {"type": "string", "format": "binary"}}
                    }
    return result
