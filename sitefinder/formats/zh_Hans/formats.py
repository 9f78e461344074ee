"""Simplified Chinese as business documents write figures: grouped by thousands with a
comma (1,234.5 m²), where Django's own format groups by ten thousands without a separator
(12345.5). Dates stay Django's (2026年12月6日)."""

from django.conf.locale.zh_Hans.formats import *  # type: ignore[import-untyped]  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
