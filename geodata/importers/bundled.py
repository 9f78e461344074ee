"""The bundled Ruhr reference data (data/ruhr/manifest.json) as import specs."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

from .core import DatasetInfo, ImportSpec


def bundled_imports(folder: Path | None = None) -> list[tuple[Path, ImportSpec]]:
    folder = Path(folder or settings.REFERENCE_DATA_DIR)
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return [
        (
            folder / entry["file"],
            ImportSpec(
                target=entry["target"],
                dataset=DatasetInfo(**entry["dataset"]),
                id_field=entry.get("id_field"),
                name_field=entry.get("name_field", "name"),
                category_field=entry.get("category_field"),
                fields=entry.get("fields", {}),
            ),
        )
        for entry in manifest["imports"]
    ]
