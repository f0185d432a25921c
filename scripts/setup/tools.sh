#!/usr/bin/env bash
# Installs the command-line tools the tests drive for real: age/age-keygen (encryption interop) and
# zstd (compression of dumps), both from Debian. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
source "$here/lib.sh"

step "age and zstd (Debian)"
apt_install age zstd jq curl
note "$(age --version 2>/dev/null | head -n1 | sed 's/^/age /'), $(zstd --version | head -n1)"
