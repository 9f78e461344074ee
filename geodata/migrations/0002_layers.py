from django.db import migrations


def create_layers(apps, schema_editor):
    from geodata.layers import LAYERS
    Layer = apps.get_model("geodata", "Layer")
    for position, spec in enumerate(LAYERS):
        Layer.objects.update_or_create(
            slug=spec.slug,
            defaults={
                "name_de": spec.name_de,
                "name_en": spec.name_en,
                "geometry": spec.geometry,
                "colour": spec.colour,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("geodata", "0001_initial")]

    operations = [migrations.RunPython(create_layers, migrations.RunPython.noop)]
