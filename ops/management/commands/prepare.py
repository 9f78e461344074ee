"""Everything before serving, in one process (scripts/run.sh, the Dockerfile): migrations,
the bundled reference data, optionally the demo sites and inquiries, static files, and the
first staff account. Each step is idempotent and quick when there is nothing to do.

The first staff account: with SITEFINDER_ADMIN_EMAIL and SITEFINDER_ADMIN_PASSWORD set, a
superuser (agency staff) with that e-mail address is created if no account has that
address yet; an existing account is never changed (its password stays what its owner
set). Remove the password from the environment after the first start.
"""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import User


def first_staff_account_ensure(*, email: str, password: str) -> tuple[User, bool]:
    """The account with this e-mail address, created as a superuser if there is none."""
    email = User.objects.normalize_email(email.strip())
    existing = User.objects.filter(username__iexact=email).first()
    if existing is not None:
        return existing, False
    candidate = User(username=email, email=email, role=User.Role.STAFF)
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        raise CommandError(
            "SITEFINDER_ADMIN_PASSWORD is not accepted: " + " ".join(exc.messages)
        ) from exc
    with transaction.atomic():
        user = User.objects.create_superuser(
            username=email, email=email, password=password, role=User.Role.STAFF
        )
    return user, True


class Command(BaseCommand):
    help = "Migrates, loads reference (and optionally demo) data, collects static files."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--demo",
            action="store_true",
            help="generate demo sites and inquiries (only into a database without any)",
        )
        parser.add_argument("--no-static", action="store_true", help="skip collectstatic")

    def say(self, text: str) -> None:
        self.stderr.write(f"[sitefinder] {text}")

    def handle(self, *args: Any, demo: bool, no_static: bool, **options: Any) -> None:
        self.say("applying migrations")
        call_command("migrate", interactive=False, verbosity=0)
        self.say("loading reference data")
        call_command("load_reference_data")
        if demo:
            self.say("demo sites and inquiries (only where there are none yet)")
            call_command("generate_demo_sites", if_empty=True)
            call_command("generate_demo_inquiries", if_empty=True)
        if not no_static:
            call_command("collectstatic", interactive=False, verbosity=0)
        email = os.environ.get("SITEFINDER_ADMIN_EMAIL", "")
        password = os.environ.get("SITEFINDER_ADMIN_PASSWORD", "")
        if email and password:
            user, created = first_staff_account_ensure(email=email, password=password)
            self.say(
                f"staff account {user.email} created"
                if created
                else f"staff account {user.email} exists; left unchanged"
            )
        elif not User.objects.filter(is_superuser=True).exists():
            self.say(
                "no staff account yet: start once with SITEFINDER_ADMIN_EMAIL and "
                "SITEFINDER_ADMIN_PASSWORD set (see README), or run "
                "'manage.py createsuperuser'"
            )
