#!/usr/bin/env bash
# Build this checkout's wheel into OUT and print its path. The build reads a copy of the
# checkout's files (tracked, and untracked ones git does not ignore: not its venvs, data or
# build output), so it leaves nothing in the checkout; pip builds it in its own isolated
# environment. Used by .dev_scripts/check_user_install.sh and benchmarks/gpu_wheels.sh.
#
#   .dev_scripts/mmfasternet_wheel.sh OUT
set -euo pipefail

(($# == 1)) || { echo "usage: $0 OUT" >&2; exit 2; }
OUT=$1
REPO=$(cd "$(dirname "$0")/.." && pwd)
source=$(mktemp -d)
trap 'rm -rf "$source"' EXIT
(cd "$REPO" && git ls-files -z -co --exclude-standard | xargs -0 cp -P --parents -t "$source")
mkdir -p "$OUT"
python3 -m pip wheel -q --disable-pip-version-check --no-deps "$source" -w "$OUT" >&2
ls "$OUT"/mmfasternet-*.whl | head -n 1
