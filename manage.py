#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sitefinder.settings.local")
    # Commands (task worker, imports, migrations) run long statements on purpose: they get
    # the command statement timeout (settings.COMMAND_STATEMENT_TIMEOUT_MS, default none);
    # the servers (runserver, and serve, whose gunicorn inherits this environment) keep the
    # web requests' one.
    if len(sys.argv) > 1 and sys.argv[1] not in ("runserver", "serve"):
        os.environ["SITEFINDER_STATEMENT_TIMEOUT_MS"] = os.environ.get(
            "SITEFINDER_COMMAND_STATEMENT_TIMEOUT_MS", "0"
        )
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
