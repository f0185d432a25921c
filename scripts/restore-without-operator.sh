#!/usr/bin/env bash
# Restores a LokDarpan backup with no operator and no Kubernetes, using only standard tools: curl
# (>= 7.75, for --aws-sigv4), jq, sha256sum, age, zstd, psql and pg_restore (of the backup's pg_dump
# major or newer). It is the procedure of docs/operations.md ("Restore without the operator"), whose
# steps are copied below verbatim between the restore-procedure markers; test/unit/docs checks that
# they are identical and test/integration/docs-restore-procedure.test.ts runs both against a real
# PostgreSQL and S3.
#
# usage: scripts/restore-without-operator.sh [options]
#   --bucket-url URL       the bucket: https://BUCKET.s3.REGION.amazonaws.com, or path-style
#                          http(s)://ENDPOINT/BUCKET for S3-compatible stores   (env S3_BUCKET_URL)
#   --region REGION        region the requests are signed for (default us-east-1) (env S3_REGION)
#   --manifest-key KEY     key of the backup's .manifest.json in the bucket     (env MANIFEST_KEY)
#   --latest PREFIX        instead of --manifest-key: the newest manifest under PREFIX, e.g.
#                          "lokdarpan/prod/lokdarpan/" (destination prefix + database name + "/")
#                                                                              (env BACKUP_PREFIX)
#   --identity FILE        age identity file (AGE-SECRET-KEY-1...) of a recipient (env AGE_IDENTITY_FILE)
#   --target-url URL       postgres://USER:PASSWORD@HOST:PORT/NEWDB; NEWDB is created when missing and
#                          must be empty otherwise                             (env TARGET_DATABASE_URL)
#   --pg-bin DIR           directory of psql and pg_restore (default: PATH)    (env PG_BIN)
#   --work-dir DIR         where the object is downloaded (default: a new temporary directory)
#                                                                              (env WORK_DIR)
# S3 credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment.
# Exit codes: 0 restored and row counts match; 1 a step failed (the message says which); 2 usage.
set -euo pipefail

usage() { sed -n '9,24p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bucket-url) S3_BUCKET_URL=${2:?}; shift 2 ;;
    --region) S3_REGION=${2:?}; shift 2 ;;
    --manifest-key) MANIFEST_KEY=${2:?}; shift 2 ;;
    --latest) BACKUP_PREFIX=${2:?}; shift 2 ;;
    --identity) AGE_IDENTITY_FILE=${2:?}; shift 2 ;;
    --target-url) TARGET_DATABASE_URL=${2:?}; shift 2 ;;
    --pg-bin) PG_BIN=${2:?}; shift 2 ;;
    --work-dir) WORK_DIR=${2:?}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "${S3_BUCKET_URL:-}" ] && [ -n "${AGE_IDENTITY_FILE:-}" ] && [ -n "${TARGET_DATABASE_URL:-}" ] || { usage >&2; exit 2; }
[ -n "${MANIFEST_KEY:-}" ] || [ -n "${BACKUP_PREFIX:-}" ] || { echo "name the backup: --manifest-key KEY or --latest PREFIX" >&2; exit 2; }
[ -n "${AWS_ACCESS_KEY_ID:-}" ] && [ -n "${AWS_SECRET_ACCESS_KEY:-}" ] || { echo "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" >&2; exit 2; }
S3_REGION=${S3_REGION:-us-east-1}
WORK_DIR=${WORK_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/lokdarpan-restore.XXXXXX")}
trap 'echo "restore failed; nothing was switched over (downloads in ${WORK_DIR})" >&2; exit 1' ERR

# >>> restore-procedure (a copy of the steps in docs/operations.md; edit both)
# 1. tools and settings
for tool in curl jq sha256sum age zstd; do command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; false; }; done
PSQL="${PG_BIN:+${PG_BIN}/}psql"
PG_RESTORE="${PG_BIN:+${PG_BIN}/}pg_restore"
s3get() { curl --fail --silent --show-error --aws-sigv4 "aws:amz:${S3_REGION}:s3" --user "${AWS_ACCESS_KEY_ID}:${AWS_SECRET_ACCESS_KEY}" --header "x-amz-content-sha256: UNSIGNED-PAYLOAD" ${AWS_SESSION_TOKEN:+--header "x-amz-security-token: ${AWS_SESSION_TOKEN}"} "$@"; }
url_of() { printf '%s/%s' "${S3_BUCKET_URL%/}" "$(jq -rn --arg k "$1" '$k | split("/") | map(@uri) | join("/")')"; }
mkdir -p "${WORK_DIR}"

# 2. find the backup's manifest
if [ -z "${MANIFEST_KEY:-}" ]; then
  s3get "${S3_BUCKET_URL%/}/?list-type=2&prefix=$(jq -rn --arg p "${BACKUP_PREFIX}" '$p | @uri')" \
    | sed 's/<Contents>/\n/g' \
    | awk 'match($0, /<Key>[^<]*\.manifest\.json<\/Key>/) { key = substr($0, RSTART + 5, RLENGTH - 11); if (match($0, /<LastModified>[^<]*<\/LastModified>/)) print substr($0, RSTART + 14, RLENGTH - 29), key }' \
    | sort > "${WORK_DIR}/manifests.txt"
  cat "${WORK_DIR}/manifests.txt" >&2
  MANIFEST_KEY=$(tail -n 1 "${WORK_DIR}/manifests.txt" | cut -d ' ' -f 2-)
  [ -n "${MANIFEST_KEY}" ] || { echo "no manifest under ${BACKUP_PREFIX}" >&2; false; }
fi
s3get --output "${WORK_DIR}/manifest.json" "$(url_of "${MANIFEST_KEY}")"
jq -e '.format == "lokdarpan-backup/v1"' "${WORK_DIR}/manifest.json" >/dev/null || { echo "${MANIFEST_KEY} is not a lokdarpan backup manifest" >&2; false; }
jq -r '"backup \(.id) of database \(.database): taken \(.startedAt), schema \(.schemaVersion // "-"), PostgreSQL \(.server.version), pg_dump \(.pgDump.major), \(.encryptedBytes) bytes, recipients \([.encryption.recipients[].recipient] | join(" "))"' "${WORK_DIR}/manifest.json"

# 3. download the encrypted dump
DATA_KEY="${MANIFEST_KEY%.manifest.json}.dump.zst.age"
s3get --output "${WORK_DIR}/backup.dump.zst.age" "$(url_of "${DATA_KEY}")"

# 4. check its SHA-256 and size against the manifest
expected=$(jq -r '.sha256' "${WORK_DIR}/manifest.json")
actual=$(sha256sum "${WORK_DIR}/backup.dump.zst.age" | cut -d ' ' -f 1)
[ "${actual}" = "${expected}" ] || { echo "SHA-256 mismatch: the object has ${actual}, the manifest says ${expected}; do not restore it, use a replica or another backup" >&2; false; }
[ "$(wc -c < "${WORK_DIR}/backup.dump.zst.age")" -eq "$(jq -r '.encryptedBytes' "${WORK_DIR}/manifest.json")" ] || { echo "size differs from the manifest" >&2; false; }
echo "SHA-256 ${actual} matches the manifest"

# 5. check pg_restore is new enough
need=$(jq -r '.pgDump.major' "${WORK_DIR}/manifest.json")
have=$("${PG_RESTORE}" --version | sed -E 's/^[^0-9]*([0-9]+).*/\1/')
[ "${have}" -ge "${need}" ] || { echo "pg_restore ${have} cannot read a pg_dump ${need} archive: set PG_BIN to PostgreSQL ${need}'s bin directory" >&2; false; }

# 6. create the target database, or check that it is empty
TARGET_DB=$(printf '%s' "${TARGET_DATABASE_URL}" | sed -E 's#^postgres(ql)?://[^/?]*/?([^?]*).*$#\2#')
ADMIN_URL=$(printf '%s' "${TARGET_DATABASE_URL}" | sed -E 's#^(postgres(ql)?://[^/?]*)/?[^?]*#\1/postgres#')
case "${TARGET_DB}" in '' | *[!A-Za-z0-9_]*) echo "name the new database in the URL with letters, digits and _ only" >&2; false ;; esac
if [ "$("${PSQL}" "${ADMIN_URL}" -Atc "SELECT count(*) FROM pg_database WHERE datname = '${TARGET_DB}'")" = 0 ]; then
  "${PSQL}" "${ADMIN_URL}" -v ON_ERROR_STOP=1 -qc "CREATE DATABASE \"${TARGET_DB}\" TEMPLATE template0"
fi
objects=$("${PSQL}" "${TARGET_DATABASE_URL}" -Atc "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')")
[ "${objects}" = 0 ] || { echo "database ${TARGET_DB} is not empty (${objects} relations): restore into a new database" >&2; false; }

# 7. decrypt, decompress and restore in one transaction
age --decrypt --identity "${AGE_IDENTITY_FILE}" "${WORK_DIR}/backup.dump.zst.age" \
  | zstd --decompress --quiet --stdout \
  | "${PG_RESTORE}" --no-owner --no-acl --single-transaction --exit-on-error --dbname "${TARGET_DATABASE_URL}"

# 8. compare the row counts with the manifest's
jq -r 'def lit: "\u0027" + gsub("\u0027"; "\u0027\u0027") + "\u0027"; def ident: "\"" + gsub("\""; "\"\"") + "\"";
  (.tables[] | "SELECT \((.schema + "." + .table) | lit) AS tbl, \(.rows)::bigint AS expected, (SELECT count(*) FROM \(.schema | ident).\(.table | ident)) AS actual UNION ALL"),
  "SELECT NULL::text, NULL::bigint, NULL::bigint WHERE false;"' "${WORK_DIR}/manifest.json" > "${WORK_DIR}/row-counts.sql"
"${PSQL}" "${TARGET_DATABASE_URL}" -v ON_ERROR_STOP=1 -AtF "$(printf '\t')" -f "${WORK_DIR}/row-counts.sql" > "${WORK_DIR}/row-counts.txt"
awk -F '\t' '{ n++ } $2 != $3 { bad++; printf "row count mismatch: %s has %s rows, the manifest says %s\n", $1, $3, $2 > "/dev/stderr" }
  END { printf "%d tables checked, %d mismatches\n", n, bad; exit (bad > 0) }' "${WORK_DIR}/row-counts.txt"
# <<< restore-procedure

echo "restored into ${TARGET_DB}; the downloaded object is in ${WORK_DIR} (delete it when done)"
