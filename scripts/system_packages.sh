#!/usr/bin/env bash
# Make sure the system tools speechmill shells out to are installed.
# Arguments: "command:debian-package" pairs (a command starting with / is a path that must exist,
# for packages that bring data, not a program). Installs the missing ones with apt-get when
# running as root; otherwise prints one line naming the packages and fails.
set -euo pipefail
missing=()
for pair in "$@"; do
  cmd="${pair%%:*}"; pkg="${pair#*:}"
  if [ "${cmd#/}" != "$cmd" ]; then
    [ -e "$cmd" ] || missing+=("$pkg")
  else
    command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "speechmill: missing system packages: ${missing[*]} — install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "speechmill: missing system packages: ${missing[*]} — no apt-get here; install them with your package manager" >&2
  exit 1
fi
echo "speechmill: installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "speechmill: apt-get update failed; install ${missing[*]} by hand" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
  || { echo "speechmill: apt-get install ${missing[*]} failed" >&2; exit 1; }
