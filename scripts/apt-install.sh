#!/usr/bin/env bash
# Install the Debian packages named on the command line that are missing, as root.
#
# .ci/run provisions llama-server and the VS Code tools side by side, and each may need apt:
# apt-get gives up at once when another apt-get holds its locks (`DPkg::Lock::Timeout` does
# not cover the package lists' lock that `apt-get update` takes), so this waits for them, up
# to ten minutes.
set -euo pipefail

missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
((${#missing[@]})) || exit 0
printf '[apt-install %s] %s\n' "$(date +%T)" "${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive

patiently() {  # run an apt-get command, again while another apt-get holds the locks
  local log
  log="$(mktemp)"
  for _ in $(seq 120); do
    if apt-get -o DPkg::Lock::Timeout=600 "$@" >"$log" 2>&1; then
      rm -f "$log"
      return 0
    fi
    grep -q "Could not get lock" "$log" || { cat "$log" >&2; rm -f "$log"; return 1; }
    sleep 5
  done
  cat "$log" >&2
  rm -f "$log"
  return 1
}

patiently update -qq
patiently install -y -qq --no-install-recommends "${missing[@]}"
