#!/usr/bin/env bash
# Container tooling from Debian (podman, buildah, runc, debootstrap) and the operator image, built
# offline from registries by scripts/build-image.sh (test/integration/image.test.ts runs it like a pod).
# Idempotent: the packages install once; the base and the image layers are cached (first build about
# 10 min on 2 busy cores, then seconds). LOKDARPAN_SKIP_IMAGE=1 installs the tools but builds nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
source "$here/lib.sh"

step "podman, buildah, runc, debootstrap (Debian)"
apt_install podman buildah runc debootstrap uidmap slirp4netns fuse-overlayfs
note "$(podman --version), $(runc --version | head -n1)"
if [[ ${LOKDARPAN_SKIP_IMAGE:-} == 1 ]]; then
  note "LOKDARPAN_SKIP_IMAGE=1: not building the image"
  exit 0
fi
PATH="$here/../node_modules/.bin:$PATH" bash "$here/build-image.sh" | { grep -v '^[0-9a-f]\{64\}$' || true; }
