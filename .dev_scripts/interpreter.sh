#!/usr/bin/env bash
# Print a runnable path of the Python interpreter NAME (e.g. python3.12): NAME itself, or,
# where it is a pyenv shim for a version that is installed but not selected (such a shim
# fails when run), that version's own interpreter. Exits 1, naming NAME, when there is none.
#
#   .dev_scripts/interpreter.sh NAME
set -euo pipefail

(($# == 1)) || { echo "usage: $0 NAME" >&2; exit 2; }
NAME=$1
if "$NAME" -c '' 2>/dev/null; then
  command -v "$NAME"
  exit 0
fi
if command -v pyenv >/dev/null; then
  for candidate in "$(pyenv root)"/versions/"${NAME#python}".*/bin/"$NAME"; do
    if [[ -x $candidate ]] && "$candidate" -c '' 2>/dev/null; then
      echo "$candidate"
      exit 0
    fi
  done
fi
echo "$NAME not found; install it or pass another interpreter" >&2
exit 1
