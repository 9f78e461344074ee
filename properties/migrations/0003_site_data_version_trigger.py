from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("properties", "0002_site_location_web_site_site_location_web_gist"),
        ("geodata", "0004_data_version_triggers"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE TRIGGER properties_site_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            "ON properties_site FOR EACH STATEMENT EXECUTE FUNCTION sitefinder_bump_data_version('sites');",
            "DROP TRIGGER properties_site_data_version ON properties_site;",
        )
    ]
