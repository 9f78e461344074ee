"""What geodata announces to the apps built on it. geodata sits below them and imports none
of them (docs/architecture.md), so a change they must follow is sent here and they connect
their receivers in their AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.dispatch import Signal

# Features of these reference layers changed (kwargs: `layers`, a list of layer slugs); sent
# inside the import's transaction, so a failing receiver rolls the import back. Receivers
# return how many rows they updated. properties refreshes the sites' stored distances.
layers_changed = Signal()


def layers_changed_send(*, sender: object, layers: list[str]) -> int:
    """Announces changed layers; how many rows the receivers updated (e.g. sites)."""
    responses: list[tuple[Any, Any]] = layers_changed.send(sender=sender, layers=layers)
    return sum(result for _, result in responses if isinstance(result, int))
