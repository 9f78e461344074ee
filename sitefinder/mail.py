"""Our e-mails: a plain-text and an HTML body from one template pair, marked as sent by a
machine. Call it inside `translation.override(<recipient's language>)`: the templates and
the subject are rendered in the active language."""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


def templated_email(
    *,
    template: str,
    context: dict[str, Any],
    subject: str,
    to: str,
    headers: dict[str, str] | None = None,
) -> EmailMultiAlternatives:
    """`template` names the pair without extension: "search/email/alert" renders
    alert.txt and alert.html."""
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Auto-Submitted": "auto-generated", **(headers or {})},
    )
    message.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    return message
