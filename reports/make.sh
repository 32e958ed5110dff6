#!/bin/sh
# Regenerate every bundle under reports/ from topologies/ (one folder per layout). Run from anywhere:
#   sh reports/make.sh
# tests/test_report_bundle.py fails when the committed bundles differ from a fresh run.
set -e
cd "$(dirname "$0")/.."
exec python -m netmodel.report.bundle --all
