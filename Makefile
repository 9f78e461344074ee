# Shortcuts for the scripts in scripts/; the scripts are the real entry points.
#   make run [PORT=8000]   set up, migrate, load data and serve on 127.0.0.1
#   make test [ARGS=...]   set up, lint, check migrations, run pytest (ARGS go to pytest)
#   make lint              ruff format --check, ruff check, mypy
#   make format            ruff format and ruff check --fix
#   make benchmark         manage.py benchmark
#   make loadtest          locust, 20 users, 60 s against the production server (ARGS=--restart-db)
#   make api-contract      schemathesis --checks all against a live server (MAX_EXAMPLES=5)
#   make i18n-status       translated / untranslated / fuzzy entries of every catalogue
#   make stop-db           stop the private PostGIS cluster and the private Redis
.PHONY: setup run test lint format benchmark loadtest api-contract i18n-status stop-db

PORT ?= 8000
ARGS ?=

setup:
	scripts/setup.sh

run:
	scripts/run.sh --port $(PORT)

test:
	scripts/test.sh $(ARGS)

lint:
	scripts/lint.sh

format:
	scripts/lint.sh --fix

benchmark:
	scripts/setup.sh
	.venv/bin/python manage.py benchmark $(ARGS)

loadtest:
	scripts/setup.sh
	.venv/bin/python -m benchmarks.loadtest $(ARGS)

api-contract:
	scripts/api_contract.sh

i18n-status:
	.venv/bin/python -m sitefinder.i18n_status

stop-db:
	scripts/redis.sh stop
	scripts/pg.sh stop
