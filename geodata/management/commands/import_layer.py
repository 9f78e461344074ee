from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from geodata.importers.core import TARGETS, DatasetInfo, ImportFailed, ImportSpec, import_file
from geodata.importers.sources import FID, SourceError, describe_formats
from geodata.layers import LAYERS
from geodata.signals import layers_changed_send


class Command(BaseCommand):
    help = (
        f"Imports a reference layer from a file ({describe_formats()}). Idempotent on the id "
        "column: re-importing updates changed features and removes those no longer in the file. "
        "OSM files (.osm.pbf, .osm) are filtered by the layer's OSM tags, e.g. "
        "highway=motorway_junction for junctions."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument(
            "--layer",
            required=True,
            choices=[spec.slug for spec in LAYERS] + list(TARGETS),
            help="target layer",
        )
        parser.add_argument("--dataset", required=True, help="dataset slug, e.g. osm-junctions")
        parser.add_argument("--title", help="dataset title (default: the slug)")
        parser.add_argument("--attribution", default="", help='e.g. "© OpenStreetMap contributors"')
        parser.add_argument("--attribution-url", default="")
        parser.add_argument("--licence", default="", help="e.g. ODbL 1.0")
        parser.add_argument("--source", default="", help="where the file came from")
        parser.add_argument(
            "--id-field", help=f"column with a stable id ({FID} = the file's feature id)"
        )
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--category-field")
        parser.add_argument("--source-layer", help="layer inside the file (GeoPackage)")
        parser.add_argument("--srid", type=int, help="declare the CRS when the file does not say")

    def handle(self, *args, **options):
        spec = ImportSpec(
            target=options["layer"],
            dataset=DatasetInfo(
                slug=options["dataset"],
                title=options["title"] or options["dataset"],
                source=options["source"],
                licence=options["licence"],
                attribution=options["attribution"],
                attribution_url=options["attribution_url"],
            ),
            id_field=options["id_field"],
            name_field=options["name_field"],
            category_field=options["category_field"],
            layer_name=options["source_layer"],
            srid=options["srid"],
        )
        try:
            result = import_file(options["path"], spec)
        except (SourceError, ImportFailed) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(str(result)))
        if spec.target not in TARGETS and (result.created or result.updated or result.deleted):
            updated = layers_changed_send(sender=type(self), layers=[spec.target])
            self.stdout.write(f"distances refreshed for {updated} sites")
