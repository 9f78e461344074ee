"""PartnerOrganisation moves here from properties (the organisation a partner belongs to is
an account's matter; accounts no longer points up into properties), and DigestLog moves out
to properties (see properties/0013). State only: the tables keep their names and data
(Meta.db_table), so nothing is copied or locked."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_throttleevent"),
        ("geodata", "0005_place_search_trigram"),
        ("properties", "0012_offer_types_and_prices"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PartnerOrganisation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("name", models.CharField(max_length=200, unique=True, verbose_name="name")),
                        ("email", models.EmailField(blank=True, max_length=254, verbose_name="e-mail")),
                        ("phone", models.CharField(blank=True, max_length=40, verbose_name="phone")),
                        ("website", models.URLField(blank=True, verbose_name="website")),
                        (
                            "municipalities",
                            models.ManyToManyField(
                                db_table="properties_partnerorganisation_municipalities",
                                related_name="partner_organisations",
                                to="geodata.municipality",
                                verbose_name="municipalities",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "partner organisation",
                        "verbose_name_plural": "partner organisations",
                        "db_table": "properties_partnerorganisation",
                        "ordering": ["name"],
                    },
                ),
                migrations.AlterField(
                    model_name="user",
                    name="organisation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="members",
                        to="accounts.partnerorganisation",
                        verbose_name="partner organisation",
                    ),
                ),
                migrations.DeleteModel(name="DigestLog"),
            ],
            database_operations=[],
        ),
    ]
