#!/usr/bin/env bash
# Installs everything the operator's tests and local run need, idempotently: npm dependencies (Node 24),
# CLI tools (age, zstd; kubectl with the control plane), PostgreSQL 15 + pgvector and PostgreSQL 18 + pgvector, SeaweedFS (S3),
# etcd / kube-apiserver / kube-controller-manager built from the Go module proxy, and podman with the
# operator image (scripts/build-image.sh).
# Everything outside node_modules goes to ~/.cache/lokdarpan-operator (LOKDARPAN_CACHE overrides).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/scripts/lib.sh"
started=$(date +%s)
for part in node tools postgres seaweedfs control-plane image; do
  step "setup: $part"
  bash "$here/scripts/setup/$part.sh"
done
step "setup done in $(( $(date +%s) - started ))s"
