from django.db import migrations

BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION sitefinder_bump_data_version() RETURNS trigger AS $$
BEGIN
    INSERT INTO geodata_dataversion (name, version, changed_at)
    VALUES (TG_ARGV[0], 1, now())
    ON CONFLICT (name) DO UPDATE
        SET version = geodata_dataversion.version + 1, changed_at = now();
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

TABLES = {
    "geodata_layerfeature": "layers",
    "geodata_municipality": "boundaries",
    "geodata_district": "boundaries",
    "geodata_region": "boundaries",
}


def trigger_sql(table: str, name: str) -> str:
    return (
        f"CREATE TRIGGER {table}_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION sitefinder_bump_data_version('{name}');"
    )


class Migration(migrations.Migration):
    dependencies = [("geodata", "0003_dataversion")]

    operations = [
        migrations.RunSQL(BUMP_FUNCTION, "DROP FUNCTION sitefinder_bump_data_version();"),
        *[
            migrations.RunSQL(trigger_sql(table, name), f"DROP TRIGGER {table}_data_version ON {table};")
            for table, name in TABLES.items()
        ],
    ]
