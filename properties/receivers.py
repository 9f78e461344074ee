"""Receivers of what the apps below properties announce (connected in PropertiesConfig)."""

from __future__ import annotations

from typing import Any

from .services.proximity import sites_refresh_distances


def refresh_distances_on_layers_changed(sender: object, layers: list[str], **kwargs: Any) -> int:
    """geodata's `layers_changed`: the sites' stored distances to those layers."""
    return sites_refresh_distances(layers=layers)
