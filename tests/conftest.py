import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.db import connection
from django.utils import translation

from geodata.importers.bundled import bundled_imports
from geodata.importers.core import import_file
from geodata.models import Layer, Municipality

# A copy of the reference tables, outside the schemas Django sees, so that the flush after a
# transactional test (live_server) can be undone with one INSERT per table instead of
# importing the bundled files again (about 2 s per browser test).
REFERENCE_COPY = "test_reference_copy"


def reference_tables() -> list[str]:
    """The geodata tables, every table after the tables it points to."""
    ordered: list[str] = []
    pending = {
        model._meta.db_table: model
        for model in apps.get_app_config("geodata").get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy
    }
    while pending:
        for table, model in sorted(pending.items()):
            parents = {
                field.related_model._meta.db_table
                for field in model._meta.concrete_fields
                if field.is_relation and field.related_model is not None
            }
            if not (parents - {table}) & pending.keys():
                ordered.append(table)
                del pending[table]
                break
        else:
            raise RuntimeError(f"circular references between {sorted(pending)}")
    return ordered


def _copy_reference_data() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {REFERENCE_COPY} CASCADE")
        cursor.execute(f"CREATE SCHEMA {REFERENCE_COPY}")
        for table in reference_tables():
            cursor.execute(f'CREATE TABLE {REFERENCE_COPY}."{table}" AS TABLE "{table}"')


def _restore_reference_data() -> bool:
    tables = reference_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f'{REFERENCE_COPY}."{tables[0]}"'])
        if cursor.fetchone()[0] is None:
            return False
        for table in tables:
            cursor.execute(
                f'INSERT INTO "{table}" SELECT * FROM {REFERENCE_COPY}."{table}" '
                "ON CONFLICT DO NOTHING"
            )
    return True


def import_reference_data() -> None:
    # The flush after a transactional test (live_server) also empties the layer rows that
    # migration 0002 created: restore them with the migration's own function first.
    if not Layer.objects.exists():
        importlib.import_module("geodata.migrations.0002_layers").create_layers(apps, None)
    for path, spec in bundled_imports():
        import_file(path, spec)


def load_reference_data() -> None:
    """The real Ruhr reference data into an emptied database: from the session's copy."""
    if not _restore_reference_data():
        import_reference_data()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The real Ruhr reference data, imported once per test run, and its copy."""
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {REFERENCE_COPY} CASCADE")
        if not Municipality.objects.exists():
            import_reference_data()
        _copy_reference_data()


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
def _default_language():
    """Every test starts in the test settings' language: a test (or a task it ran) that
    activated another language must not change the next test's messages."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Tiles are cached under data versions, and a test's rollback rewinds those versions:
    without this, one test could be served another test's tile."""
    from django.core.cache import cache

    from sitefinder import fastpath, tiles

    cache.clear()
    fastpath.memory.clear()
    tiles._recent_versions.clear()
