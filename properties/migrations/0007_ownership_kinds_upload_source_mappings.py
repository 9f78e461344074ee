"""Ownership as municipalities distinguish it (municipal / other public body / private /
mixed), § 35 BauGB as a B-Plan status, the upload list a site came from, and the
organisations' own upload vocabulary (UploadMapping).

The former "public" becomes "municipal": the partners who offered public land are the
municipalities' economic-development offices. Sites an earlier upload wrote (an "uploaded"
entry in their history) are marked as uploaded without a list name.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('properties', '0006_site_search_covering_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='site',
            name='upload_source',
            field=models.CharField(blank=True, editable=False, max_length=100, null=True, verbose_name='upload list'),
        ),
        migrations.AlterField(
            model_name='site',
            name='bplan_status',
            field=models.CharField(choices=[('binding', 'Binding B-Plan'), ('in_preparation', 'B-Plan in preparation'), ('fnp_only', 'Designated in the FNP only'), ('section_34', 'No B-Plan; built-up area (§ 34 BauGB)'), ('section_35', 'No B-Plan; outer area (§ 35 BauGB)')], max_length=16, verbose_name='B-Plan status'),
        ),
        migrations.AlterField(
            model_name='site',
            name='ownership',
            field=models.CharField(choices=[('municipal', 'Municipal'), ('other_public', 'Other public body'), ('private', 'Private'), ('mixed', 'Mixed')], max_length=16, verbose_name='ownership'),
        ),
        migrations.RunSQL(
            "UPDATE properties_site SET ownership = 'municipal' WHERE ownership = 'public'",
            "UPDATE properties_site SET ownership = 'public' "
            "WHERE ownership IN ('municipal', 'other_public')",
        ),
        migrations.RunSQL(
            """
            UPDATE properties_site s SET upload_source = ''
            WHERE s.upload_source IS NULL AND EXISTS (
                SELECT 1 FROM properties_sitechange c
                WHERE c.site_id = s.id AND c.action = 'uploaded')
            """,
            migrations.RunSQL.noop,
        ),
        migrations.CreateModel(
            name='UploadMapping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('column', 'Column'), ('value', 'Value')], max_length=8, verbose_name='kind')),
                ('field', models.CharField(blank=True, max_length=64, verbose_name='field')),
                ('source', models.CharField(max_length=200, verbose_name='as written in the file')),
                ('source_key', models.CharField(editable=False, max_length=200, verbose_name='normalised')),
                ('value', models.CharField(blank=True, max_length=64, verbose_name='read as')),
                ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created at')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='upload_mappings', to='properties.partnerorganisation', verbose_name='partner organisation')),
            ],
            options={
                'verbose_name': 'upload mapping',
                'verbose_name_plural': 'upload mappings',
                'ordering': ['organisation', 'kind', 'field', 'source'],
                'constraints': [models.UniqueConstraint(fields=('organisation', 'kind', 'field', 'source_key'), name='uploadmapping_unique_source')],
            },
        ),
    ]
