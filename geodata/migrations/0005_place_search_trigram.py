"""Trigram indexes for the place search (properties/places.py): names matched anywhere
("hbf", "essen") in a few milliseconds, case-insensitively."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = [
    ("geodata_municipality", "name", "geodata_municipality_name_trgm"),
    ("geodata_district", "name", "geodata_district_name_trgm"),
    ("geodata_layerfeature", "name", "geodata_layerfeature_name_trgm"),
    ("properties_site", "title", "properties_site_title_trgm"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("geodata", "0004_data_version_triggers"),
        ("properties", "0006_site_search_covering_index"),
    ]

    operations = [
        TrigramExtension(),
        *(
            migrations.RunSQL(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)",
                f"DROP INDEX IF EXISTS {name}",
            )
            for table, column, name in INDEXES
        ),
    ]
