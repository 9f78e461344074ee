"""`Cache-Control: private, no-store` on every staff and partner page (issue 11: the staff
inquiry page had none), walked over the authorisation matrix's URLs."""

import pytest

from tests.test_authorization_matrix import (  # noqa: F401 (world is a fixture)
    RULES,
    admin_values,
    build_path,
    clients,
    project_routes,
    world,
)

pytestmark = pytest.mark.django_db

PRIVATE = ("staff/", "partner/", "admin/", "offers/")


def test_every_staff_and_partner_page_is_private_no_store(world):  # noqa: F811
    role_clients = clients(world)
    by_name = {route.key: route for route in project_routes()}
    checked: list[str] = []
    failures: list[str] = []
    paths: list[str] = []
    for rule in RULES:
        route = by_name.get(rule.name)
        # Pages sit under the language prefix (en/ in the tests).
        bare = route.route.removeprefix("en/") if route else ""
        if route is None or rule.method != "get" or not bare.startswith(PRIVATE):
            continue
        if rule.name == "offer_link_unprefixed":
            continue  # a redirect to the offer's language (no content): not a page
        values = {key: world.value(value) for key, value in rule.params.items()}
        paths.append(build_path(route.route, values))
    for route in by_name.values():
        if route.route.startswith("admin/") and not route.key.endswith("logout"):
            paths.append(build_path(route.route, admin_values(route.route, world)))
    for path in sorted(set(paths)):
        # Every role: the login redirect and the refusal must not be cached either.
        for role in ("anonymous", "partner_a", "staff"):
            response = role_clients[role].get(path)
            checked.append(path)
            if response.get("Cache-Control") != "private, no-store":
                failures.append(f"{role} {path}: {response.get('Cache-Control')!r}")
    assert failures == [], "\n".join(failures)
    assert any(p.startswith("/en/staff/inquiries/") for p in checked)
    assert any(p.startswith("/en/partner/") for p in checked)
    assert len(set(checked)) > 30


def test_staff_and_partner_users_get_no_store_everywhere_visitors_do_not(world):  # noqa: F811
    role_clients = clients(world)
    for role in ("staff", "partner_a"):
        assert role_clients[role].get("/en/")["Cache-Control"] == "private, no-store"
    public = role_clients["anonymous"].get("/en/")
    assert "no-store" not in public.get("Cache-Control", "")
    tile = role_clients["anonymous"].get("/tiles/boundaries/10/533/342.pbf")
    assert "public" in tile["Cache-Control"]
