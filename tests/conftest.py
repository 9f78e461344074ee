import importlib

import pytest
from django.apps import apps

from geodata.importers.bundled import bundled_imports
from geodata.importers.core import import_file
from geodata.models import Layer, Municipality


def load_reference_data() -> None:
    # The flush after a transactional test (live_server) also empties the layer rows that
    # migration 0002 created: restore them with the migration's own function first.
    if not Layer.objects.exists():
        importlib.import_module("geodata.migrations.0002_layers").create_layers(apps, None)
    for path, spec in bundled_imports():
        import_file(path, spec)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The real Ruhr reference data, loaded once per test database."""
    with django_db_blocker.unblock():
        load_reference_data()


@pytest.fixture
def reference_data(db):
    """Reference data for a test; reloaded if a transactional test flushed it."""
    if not Municipality.objects.exists():
        load_reference_data()


@pytest.fixture
def essen(reference_data) -> Municipality:
    return Municipality.objects.get(ags="05113000")


@pytest.fixture
def dortmund(reference_data) -> Municipality:
    return Municipality.objects.get(ags="05913000")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Tiles are cached under data versions, and a test's rollback rewinds those versions:
    without this, one test could be served another test's tile."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the default language: a request to a /de/ page activates German
    for the thread (LocaleMiddleware does not deactivate it), and reverse() would then give
    the next test German URLs."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
