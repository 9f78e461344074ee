from django.core.management.base import BaseCommand, CommandError

from geodata.importers.core import ImportFailed
from geodata.importers.sources import SourceError
from geodata.services.transport_refresh import RefreshFailed, transport_layers_refresh


class Command(BaseCommand):
    help = (
        "Downloads the OpenStreetMap extracts of SITEFINDER_OSM_EXTRACT_URLS (with resume and "
        "their .md5 checksums), imports motorways, junctions, waterways and ports from them "
        "and refreshes the site distances. A failed download changes nothing. Runs monthly "
        "from the scheduler; without configured extracts it does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            action="append",
            dest="urls",
            help="an extract URL instead of SITEFINDER_OSM_EXTRACT_URLS (repeatable)",
        )

    def handle(self, *args, **options):
        try:
            result = transport_layers_refresh(urls=options["urls"])
        except (RefreshFailed, SourceError, ImportFailed) as exc:
            raise CommandError(f"{exc}\nNothing was changed.") from exc
        self.stdout.write(self.style.SUCCESS(str(result)))
