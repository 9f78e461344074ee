"""English as the site writes it: British (day before month: 6 Dec 2026, 06/12/2026), the
English of the region's partners and investors, not Django's US default (Dec. 6, 2026)."""

from django.conf.locale.en_GB.formats import *  # type: ignore[import-untyped]  # noqa: F403
