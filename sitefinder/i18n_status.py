"""Each catalogue's completeness: `make i18n-status` (or `python -m sitefinder.i18n_status`).

Counts translated, untranslated and fuzzy entries of locale/<locale>/LC_MESSAGES/django.po
for every language in settings.LANGUAGES (English is the source and needs no catalogue),
with GNU gettext's `msgfmt --statistics`, which also checks the format strings.
`--strict` exits 1 unless every catalogue is present and complete.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

SOURCE_LANGUAGE = "en"
COUNT = re.compile(r"(\d+) (translated|fuzzy|untranslated)")


@dataclass
class CatalogueStatus:
    language: str
    path: Path
    present: bool
    translated: int = 0
    fuzzy: int = 0
    untranslated: int = 0
    error: str = ""

    @property
    def complete(self) -> bool:
        return self.present and not self.error and self.fuzzy == 0 and self.untranslated == 0


def catalogue_path(language: str) -> Path:
    from django.conf import settings
    from django.utils.translation import to_locale

    return Path(settings.LOCALE_PATHS[0]) / to_locale(language) / "LC_MESSAGES" / "django.po"


def catalogue_status(language: str) -> CatalogueStatus:
    path = catalogue_path(language)
    if not path.exists():
        return CatalogueStatus(language, path, present=False)
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        return CatalogueStatus(language, path, present=True, error="msgfmt (gettext) is missing")
    result = subprocess.run(  # noqa: S603 (our own catalogue, no shell)
        [msgfmt, "--check", "--statistics", "-o", os.devnull, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "LC_ALL": "C"},
        check=False,
    )
    status = CatalogueStatus(language, path, present=True)
    for number, kind in COUNT.findall(result.stderr):
        setattr(status, kind, int(number))
    if result.returncode != 0:
        status.error = result.stderr.strip().splitlines()[0]
    return status


def all_statuses() -> list[CatalogueStatus]:
    from django.conf import settings

    return [catalogue_status(code) for code, _name in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def main(argv: list[str]) -> int:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitefinder.settings.local")
    django.setup()
    statuses = all_statuses()
    print(f"{'language':<9} {'translated':>10} {'untranslated':>12} {'fuzzy':>6}  state")
    for status in statuses:
        if not status.present:
            state = "missing"
        elif status.error:
            state = f"error: {status.error}"
        else:
            state = "complete" if status.complete else "incomplete"
        print(
            f"{status.language:<9} {status.translated:>10} {status.untranslated:>12} "
            f"{status.fuzzy:>6}  {state}"
        )
    if "--strict" in argv and not all(status.complete for status in statuses):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
