#!/usr/bin/env bash
# The run command: installs what is missing (scripts/setup.sh), then runs the operator against the
# current kubeconfig when a cluster answers, or else an embedded local setup with the examples, showing
# the resources' status as it changes. Ctrl-C stops everything. `--embedded` forces the local setup.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
cd "$here"
export PATH="$here/node_modules/.bin:$PATH"
exec node test/env/local.ts "$@"
