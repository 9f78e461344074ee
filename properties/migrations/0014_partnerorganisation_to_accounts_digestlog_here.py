"""PartnerOrganisation now lives in accounts (accounts/0006) and DigestLog, the log of the
freshness digests, here. State only: both tables keep their names and data (Meta.db_table).
The content types follow the models, so permissions and admin history stay attached."""

import django.db.models.deletion
from django.db import migrations, models

MOVES = (("properties", "accounts", "partnerorganisation"), ("accounts", "properties", "digestlog"))


def _move_content_types(apps, schema_editor, *, reverse=False):
    content_type = apps.get_model("contenttypes", "ContentType")
    for source, target, model in MOVES:
        if reverse:
            source, target = target, source
        # A fresh database has no content types yet (post_migrate creates them).
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types(apps, schema_editor):
    _move_content_types(apps, schema_editor)


def move_content_types_back(apps, schema_editor):
    _move_content_types(apps, schema_editor, reverse=True)


def _organisation(**kwargs):
    return models.ForeignKey(to="accounts.partnerorganisation", **kwargs)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_partnerorganisation_from_properties"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("properties", "0013_site_search_order_indexes"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="site",
                    name="organisation",
                    field=_organisation(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="sites",
                        verbose_name="partner organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="uploadmapping",
                    name="organisation",
                    field=_organisation(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="upload_mappings",
                        verbose_name="partner organisation",
                    ),
                ),
                migrations.AlterField(
                    model_name="uploadjob",
                    name="organisation",
                    field=_organisation(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="upload_jobs",
                        verbose_name="organisation",
                    ),
                ),
                migrations.DeleteModel(name="PartnerOrganisation"),
                migrations.CreateModel(
                    name="DigestLog",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("sent_at", models.DateTimeField(verbose_name="sent at")),
                        (
                            "stale_count",
                            models.PositiveIntegerField(default=0, verbose_name="stale sites"),
                        ),
                        (
                            "hidden_count",
                            models.PositiveIntegerField(default=0, verbose_name="hidden sites"),
                        ),
                        (
                            "organisation",
                            _organisation(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="digest_logs",
                                verbose_name="partner organisation",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "freshness digest",
                        "verbose_name_plural": "freshness digests",
                        "db_table": "accounts_digestlog",
                        "ordering": ["-sent_at"],
                        "indexes": [
                            models.Index(
                                fields=["organisation", "sent_at"], name="digestlog_org_sent_idx"
                            )
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
