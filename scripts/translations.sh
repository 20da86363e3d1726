#!/usr/bin/env bash
# Refresh the English catalogue after changing user-facing text (Vietnamese is the source
# language): extract, merge into en/messages.po, then edit the new msgstr and compile.
#   scripts/translations.sh update   # after editing templates or Python messages
#   scripts/translations.sh compile  # after translating
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
case "${1:-}" in
  update)
    "$PYBABEL" extract -F babel.cfg -k _ -k N_ --no-location -o inspection/translations/messages.pot inspection
    "$PYBABEL" update -i inspection/translations/messages.pot -d inspection/translations -l en --no-fuzzy-matching ;;
  compile)
    "$PYBABEL" compile -d inspection/translations -l en --statistics ;;
  *) echo "usage: $0 update|compile" >&2; exit 2 ;;
esac
