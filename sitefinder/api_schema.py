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
