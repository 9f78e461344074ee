"""Place search that folds accents and umlauts (issue 13): "Muelheim", "Mulheim" and
"mülheim" all find Mülheim an der Ruhr, "Dusseldorf" finds Düsseldorf.

`sitefinder_fold(text)` lowers the text, takes accents off (the unaccent extension) and
writes the German transliterations ae/oe/ue as a/o/u, so both spellings of an umlaut meet
in one form ("Mülheim", "Muelheim", "Mulheim" -> "mulheim"; "Straße" -> "strasse"). It is
IMMUTABLE (unaccent with its dictionary named), so trigram indexes can be built on it; the
search folds the typed text the same way (properties.places)."""

from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

FOLD_FUNCTION = """
CREATE OR REPLACE FUNCTION sitefinder_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT replace(replace(replace(
    lower(public.unaccent('public.unaccent'::regdictionary, value)),
    'ae', 'a'), 'oe', 'o'), 'ue', 'u')
$$
"""

INDEXES = [
    ("geodata_municipality", "name", "geodata_municipality_name_fold_trgm"),
    ("geodata_district", "name", "geodata_district_name_fold_trgm"),
    ("geodata_layerfeature", "name", "geodata_layerfeature_name_fold_trgm"),
    ("properties_site", "title", "properties_site_title_fold_trgm"),
]


class Migration(migrations.Migration):
    dependencies = [
        ("geodata", "0005_place_search_trigram"),
        ("properties", "0012_offer_types_and_prices"),
    ]

    operations = [
        UnaccentExtension(),
        migrations.RunSQL(FOLD_FUNCTION, "DROP FUNCTION IF EXISTS sitefinder_fold(text)"),
        *(
            migrations.RunSQL(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} "
                f"USING gin (sitefinder_fold({column}) gin_trgm_ops)",
                f"DROP INDEX IF EXISTS {name}",
            )
            for table, column, name in INDEXES
        ),
    ]
