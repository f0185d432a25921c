# Shared helpers for the setup scripts: cache location and timed, labelled steps.
CACHE=${LOKDARPAN_CACHE:-$HOME/.cache/lokdarpan-operator}
mkdir -p "$CACHE"
step() { printf '\n==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ -z $apt_updated ]]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}
