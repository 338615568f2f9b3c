#!/usr/bin/env bash
# Install everything the tests need and run the whole suite (lint, types and import layers
# first), against a real Elasticsearch that this script downloads, starts and stops
# (scripts/elasticsearch.sh).
# FOIARCHIVE_TEST_ES_URL=URL uses a running cluster instead; FOIARCHIVE_SKIP_ES=1 runs without
# one (the Elasticsearch tests then skip, unless FOIARCHIVE_REQUIRE_ES=1, as in CI).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check .
.venv/bin/mypy            # the library packages, settings in pyproject.toml
.venv/bin/lint-imports    # rooms import only downward (DESIGN.md)
if [ -z "${FOIARCHIVE_TEST_ES_URL:-}" ] && [ "${FOIARCHIVE_SKIP_ES:-}" != "1" ]; then
  FOIARCHIVE_TEST_ES_URL="$(bash scripts/elasticsearch.sh start)"
  export FOIARCHIVE_TEST_ES_URL
  trap 'bash scripts/elasticsearch.sh stop' EXIT
fi
.venv/bin/python -m pytest "$@"
