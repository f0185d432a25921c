#!/usr/bin/env bash
# Installs the kubectl plugin `kubectl lokdarpan <command>`: writes a small wrapper script
# `kubectl-lokdarpan` into DIR (default ~/.local/bin) that runs this repository's CLI
# (`node src/cli/main.ts "$@"`) with the repository's Node 24 (node_modules/.bin/node).
# kubectl finds plugins as executables named kubectl-<name> on PATH (`kubectl plugin list` shows them).
#
#   bash scripts/install-kubectl-plugin.sh [DIR]      # then: kubectl lokdarpan status -A
#   bash scripts/install-kubectl-plugin.sh --uninstall [DIR]
set -euo pipefail

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }

uninstall=
dir=
while [[ $# -gt 0 ]]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --uninstall) uninstall=1 ;;
    --dir) dir=${2:?--dir needs a directory}; shift ;;
    -*) echo "install-kubectl-plugin: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) [[ -z $dir ]] || { echo "install-kubectl-plugin: one directory only" >&2; exit 2; }; dir=$1 ;;
  esac
  shift
done
dir=${dir:-$HOME/.local/bin}
target=$dir/kubectl-lokdarpan

if [[ -n $uninstall ]]; then
  if [[ -f $target ]] && grep -q 'install-kubectl-plugin.sh' "$target"; then rm -f "$target"; echo "removed $target"; else echo "no kubectl-lokdarpan wrapper in $dir"; fi
  exit 0
fi

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
node=$repo/node_modules/.bin/node
if [[ ! -x $node ]]; then
  echo "install-kubectl-plugin: $node is missing; run \`bash scripts/setup.sh\` (or \`npm ci\`) in $repo first" >&2
  exit 1
fi
"$node" -e 'if (Number(process.versions.node.split(".")[0]) < 24) process.exit(1)' || {
  echo "install-kubectl-plugin: $node is not Node 24 or newer" >&2; exit 1; }

# Single-quote a path for sh (an embedded ' becomes '\'').
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

mkdir -p "$dir"
tmp=$(mktemp "$dir/.kubectl-lokdarpan.XXXXXX")
cat > "$tmp" <<WRAPPER
#!/bin/sh
# kubectl-lokdarpan: the lokdarpan-operator CLI as a kubectl plugin (\`kubectl lokdarpan --help\`).
# Written by scripts/install-kubectl-plugin.sh from $repo; run it again after moving the repository.
exec $(quote "$node") $(quote "$repo/src/cli/main.ts") "\$@"
WRAPPER
chmod 0755 "$tmp"
mv -f "$tmp" "$target"
echo "installed $target -> $repo/src/cli/main.ts"

case ":$PATH:" in
  *":$dir:"*) echo "try: kubectl lokdarpan status -A" ;;
  *) echo "note: $dir is not on PATH; add it (export PATH=\"$dir:\$PATH\") so kubectl finds the plugin" ;;
esac
