#!/usr/bin/env bash
# The test command: installs what is missing (scripts/setup.sh), type-checks, then runs every test on
# Node 24 (unit tests and integration tests against real kube-apiserver, PostgreSQL, S3, age, kubectl).
#
# PostgreSQL majors: LOKDARPAN_PG_MAJORS="15 18" (the default). The first major runs every test; each
# further major runs the database suites again: the files test/integration/{env-postgres,migrations*,
# schema*,backup*,restore*,retention*}.test.ts (name a new database suite so that it matches).
# Arguments are passed to both `node --test` runs (e.g. --test-name-pattern=...).
# Every pass runs even when an earlier one failed; the exit code is non-zero if any failed, and the last
# line is the total over all passes, `N passed, N failed` (cancelled and timed-out tests count as failed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
read -r -a majors <<< "${LOKDARPAN_PG_MAJORS:-15 18}"
[[ ${#majors[@]} -gt 0 ]] || { echo "LOKDARPAN_PG_MAJORS is empty (want e.g. \"15 18\")" >&2; exit 2; }
for m in "${majors[@]}"; do
  [[ $m == 15 || $m == 18 ]] || { echo "LOKDARPAN_PG_MAJORS: $m is not a supported major (15, 18)" >&2; exit 2; }
done
bash "$here/scripts/setup.sh"
cd "$here"
export PATH="$here/node_modules/.bin:$PATH"
echo; echo "==> type check (tsc $(tsc --version | cut -d' ' -f2))"
tsc -p .

summaries=$(mktemp -d "${TMPDIR:-/tmp}/lokdarpan-test-summary.XXXXXX")
trap 'rm -rf "$summaries"' EXIT
status=0
passes=()

# run_pass LABEL MAJOR FILE...: one `node --test` run; its counts go to a summary file, its failure to $status.
run_pass() {
  local label=$1 major=$2; shift 2
  local summary="$summaries/$(( ${#passes[@]} + 1 )).json"
  passes+=("$summary=$label")
  echo; echo "==> $label"
  LOKDARPAN_PG_MAJOR=$major node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=./test/env/test-summary.ts --test-reporter-destination="$summary" \
    "$@" || status=1
}

run_pass "tests on Node $(node --version), PostgreSQL ${majors[0]}" "${majors[0]}" "$@" 'test/**/*.test.ts'

db_suites=()
for f in test/integration/{env-postgres,migrations*,schema*,backup*,restore*,retention*}.test.ts; do
  if [[ -f $f ]]; then db_suites+=("$f"); fi
done
for m in "${majors[@]:1}"; do
  if [[ ${#db_suites[@]} -eq 0 ]]; then
    echo; echo "==> database suites on PostgreSQL $m: none found"; continue
  fi
  run_pass "database suites on PostgreSQL $m (${#db_suites[@]} files)" "$m" "$@" "${db_suites[@]}"
done

echo; echo "==> total"
node test/env/test-summary.ts "${passes[@]}" || status=1
exit "$status"
