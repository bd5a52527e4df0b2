#!/usr/bin/env bash
# Install (if needed) and start the chat app on seeds/ at http://127.0.0.1:7860.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# glibc: two malloc arenas instead of up to eight a core (app.py says why; about 175 MB less)
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
exec .venv/bin/python app.py "$@"
