"""What properties announces to the apps built on it. properties sits below them and imports
none of them (docs/architecture.md); they connect their receivers in AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# An investor's (or a visitor's) search found nothing (kwargs: `query_dict`, the search's
# parameters, and `channel`, "page" or "api"). search records it as unmet demand.
search_found_nothing = Signal()
