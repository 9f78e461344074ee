"""Creates a partner organisation for municipalities given by AGS; prints its id last."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import PartnerOrganisation
from geodata.models import Municipality


class Command(BaseCommand):
    help = (
        "Creates a partner organisation (a municipal economic-development office) for the "
        "municipalities given by their AGS; prints the new organisation's id as the last line."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="the organisation's name")
        parser.add_argument(
            "--ags",
            action="extend",
            nargs="+",
            required=True,
            help="a municipality's 8-digit AGS, e.g. 05113000 (Essen); repeatable",
        )

    def handle(self, *args, name: str, ags: list[str], **options):
        keys = [key.strip().zfill(8) for key in ags]
        municipalities = {m.ags: m for m in Municipality.objects.filter(ags__in=keys)}
        unknown = [key for key in keys if key not in municipalities]
        if unknown:
            raise CommandError(
                f"unknown AGS: {', '.join(unknown)} "
                f"({Municipality.objects.count()} municipalities are loaded; "
                "an AGS has 8 digits, e.g. 05113000 for Essen)"
            )
        organisation = PartnerOrganisation(name=" ".join(name.split()))
        try:
            organisation.full_clean()
        except ValidationError as exc:
            messages = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            raise CommandError(messages) from None
        with transaction.atomic():
            organisation.save()
            organisation.municipalities.set([municipalities[key] for key in keys])
        names = ", ".join(municipalities[key].name for key in keys)
        self.stdout.write(f"created {organisation.name} for {names}")
        self.stdout.write(str(organisation.pk))
