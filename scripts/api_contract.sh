#!/usr/bin/env bash
# The API's schema against its real answers: schemathesis (`--checks all`) against a live
# development server on this checkout's database. Bounded: MAX_EXAMPLES (default 5) per
# operation and a fixed SEED, so a run takes well under a minute and is repeatable.
#   scripts/api_contract.sh            (make api-contract)
#   MAX_EXAMPLES=20 scripts/api_contract.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
PORT="${CONTRACT_PORT:-8765}"
MAX_EXAMPLES="${MAX_EXAMPLES:-5}"
SEED="${SEED:-20261206}"
# No anonymous throttle for this one client (it would answer 429s and test nothing).
SITEFINDER_API_ANONYMOUS_RATE= .venv/bin/python manage.py runserver "127.0.0.1:$PORT" --noreload >var/api-contract-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
.venv/bin/schemathesis run "http://127.0.0.1:$PORT/api/v1/schema/" \
  --wait-for-schema 60 --checks all --max-examples "$MAX_EXAMPLES" --seed "$SEED" --no-color
