#!/bin/sh
# Regenerate fixtures/matcher_expected.json by running Salt 3008.5's own matchers on
# fixtures/matcher_input.json. Needs /opt/salt-venv (Salt installed).
set -e
here=$(cd "$(dirname "$0")" && pwd)
cd /tmp && /opt/salt-venv/bin/python "$here/run_salt_matchers.py" "$here/fixtures/matcher_input.json" \
  > "$here/fixtures/matcher_expected.json"
