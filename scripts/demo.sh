#!/usr/bin/env bash
# The main job on sample data: install, build a sample production, ingest it into a fresh
# archive on the embedded search index (no server), and run a few searches.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
foiarchive=.venv/bin/foiarchive
rm -rf demo-archive sample-production
$foiarchive sample sample-production
$foiarchive --archive demo-archive ingest sample-production \
  --manifest sample-production/production.json
$foiarchive --archive demo-archive productions
for query in 'deportation AND "secure communities"' 'detainer* -juvenile' 'type:csv travis'; do
  echo
  echo "\$ foiarchive --archive demo-archive search '$query' --limit 3"
  $foiarchive --archive demo-archive search "$query" --limit 3
done
