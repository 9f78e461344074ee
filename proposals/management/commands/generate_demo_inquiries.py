import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from proposals.models import Inquiry
from proposals.services.demo import (
    DEFAULT_COUNT,
    DEFAULT_SEED,
    inquiries_delete_demo,
    inquiries_generate_demo,
)


class Command(BaseCommand):
    help = (
        "Generates fictitious demo inquiries (companies 'Demo – …', addresses at example.com "
        "and example.org) over the last twelve months, with offers of the best-matching "
        "published sites, for the demo install's inbox and dashboard. Run it after "
        "load_reference_data and generate_demo_sites."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--count",
            type=int,
            default=DEFAULT_COUNT,
            help=f"number of demo inquiries (default {DEFAULT_COUNT})",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help="random seed; the same seed, the same inquiries",
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--replace", action="store_true", help="delete the existing demo inquiries first"
        )
        mode.add_argument(
            "--if-empty",
            action="store_true",
            help="do nothing when demo inquiries exist already (for set-up scripts)",
        )
        mode.add_argument(
            "--delete",
            action="store_true",
            help="only delete the demo inquiries (their offers hold demo sites: delete them "
            "before replacing the demo sites)",
        )

    def handle(self, *args, count, seed, replace, if_empty, delete, **options):
        started = time.monotonic()
        if delete:
            deleted = inquiries_delete_demo()
            self.stdout.write(f"deleted {deleted} demo inquiries")
            return
        existing = Inquiry.objects.demo().count()
        if if_empty and existing:
            self.stdout.write(f"{existing} demo inquiries present already; nothing generated")
            return
        try:
            created = inquiries_generate_demo(count=count, seed=seed, replace=replace)
        except (ValueError, RuntimeError) as error:
            raise CommandError(str(error)) from error
        by_status = dict(
            Inquiry.objects.demo().values_list("status").annotate(n=Count("pk")).order_by()
        )
        statuses = ", ".join(
            f"{label} {by_status.get(value, 0)}" for value, label in Inquiry.Status.choices
        )
        unmet = Inquiry.objects.demo().filter(match_count=0).count()
        action = f"replaced {existing} demo inquiries with" if replace and existing else "generated"
        self.stdout.write(
            self.style.SUCCESS(
                f"{action} {created} demo inquiries (seed {seed}) in "
                f"{time.monotonic() - started:.1f} s: {statuses}; {unmet} without a matching site"
            )
        )
