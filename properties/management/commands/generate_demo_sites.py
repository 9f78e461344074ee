import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from properties.models import Site
from properties.services.demo import sites_delete_demo, sites_generate_demo


class Command(BaseCommand):
    help = (
        "Generates fictitious demo sites (plots and premises, marked is_demo) in all "
        "municipalities of the region. Needs the reference data (load_reference_data)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--count", type=int, default=1500, help="number of demo sites (default 1500)"
        )
        parser.add_argument(
            "--seed", type=int, default=42, help="random seed; the same seed, the same sites"
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--replace", action="store_true", help="delete the existing demo sites first"
        )
        mode.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when demo sites exist already (for set-up scripts)",
        )
        mode.add_argument("--delete", action="store_true", help="only delete the demo sites")

    def handle(self, *args, count, seed, replace, if_empty, delete, **options):
        started = time.monotonic()
        if delete:
            try:
                deleted = sites_delete_demo()
            except RuntimeError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"deleted {deleted} demo sites in {time.monotonic() - started:.1f} s")
            return
        existing = Site.objects.demo().count()
        if if_empty and existing:
            self.stdout.write(f"{existing} demo sites present already; nothing generated")
            return
        if count < 1:
            raise CommandError("--count must be at least 1")
        try:
            created = sites_generate_demo(count=count, seed=seed, replace=replace)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.monotonic() - started
        demo = Site.objects.demo()
        by_kind = dict(demo.values_list("kind").annotate(n=Count("pk")).order_by())
        kinds = ", ".join(f"{label} {by_kind.get(kind, 0)}" for kind, label in Site.Kind.choices)
        municipalities = demo.values("municipality").distinct().count()
        action = f"replaced {existing} demo sites with" if replace and existing else "generated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{action} {created} demo sites (seed {seed}) in {elapsed:.1f} s; "
                f"now {demo.count()} demo sites in {municipalities} municipalities ({kinds})"
            )
        )
