from django.core.management.base import BaseCommand, CommandError

from geodata.importers.bundled import bundled_imports
from geodata.importers.core import ImportFailed, import_file
from geodata.importers.sources import SourceError
from geodata.signals import layers_changed_send


class Command(BaseCommand):
    help = (
        "Imports the bundled real Ruhr geodata (boundaries, stations, railway lines, airports, "
        "universities). Idempotent: files already imported unchanged are skipped."
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="re-import unchanged files too")

    def handle(self, *args, force: bool = False, **options):
        changed_layers = []
        for path, spec in bundled_imports():
            try:
                result = import_file(path, spec, skip_if_unchanged=not force)
            except (SourceError, ImportFailed) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(str(result))
            if not result.skipped_same_file and (
                result.created or result.updated or result.deleted
            ):
                changed_layers.append(spec.target)
        layers = [t for t in changed_layers if t not in ("municipalities", "districts", "region")]
        if layers:
            updated = layers_changed_send(sender=type(self), layers=layers)
            self.stdout.write(f"distances refreshed for {updated} sites ({', '.join(layers)})")
