import time

from django.core.management.base import BaseCommand

from geodata.layers import LAYERS_BY_SLUG
from properties.services.proximity import sites_refresh_distances


class Command(BaseCommand):
    help = "Recomputes every site's stored distances to the nearest feature of each layer."

    def add_arguments(self, parser):
        parser.add_argument(
            "--layer",
            action="append",
            choices=list(LAYERS_BY_SLUG),
            help="only these layers (repeatable)",
        )

    def handle(self, *args, layer=None, **options):
        started = time.perf_counter()
        updated = sites_refresh_distances(layers=layer)
        self.stdout.write(
            f"distances refreshed for {updated} sites in {time.perf_counter() - started:.1f} s"
        )
