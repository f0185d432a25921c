#!/usr/bin/env bash
# The test command: installs what is missing (scripts/setup.sh), type-checks, then runs every test on
# Node 24 (unit tests and integration tests against real kube-apiserver, PostgreSQL, S3, age, kubectl).
# LOKDARPAN_PG_MAJORS="15 18" (the default) runs the database suites on both PostgreSQL majors.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bash "$here/scripts/setup.sh"
cd "$here"
export PATH="$here/node_modules/.bin:$PATH"
echo; echo "==> type check (tsc $(tsc --version | cut -d' ' -f2))"
tsc -p .
echo; echo "==> tests on Node $(node --version)"
exec node --test --test-concurrency=1 --test-reporter=spec "$@" 'test/**/*.test.ts'
