#!/usr/bin/env bash
# Print the path of an mmcv wheel with its compiled ops for the venv Python PY, building it
# from the sdist the first time and caching it under $MMFASTERNET_CACHE, keyed by the mmcv,
# torch and Python versions and by BUILD, this script's way of building.
#
#   .dev_scripts/mmcv_wheel.sh PY MMCV_VERSION
#
# PY's environment must already hold the torch to build against, and setuptools < 81 and
# wheel (mmcv 2.1's setup.py imports pkg_resources). Used by .dev_scripts/setup_env.sh and
# .dev_scripts/check_user_install.sh.
#
# The ops are compiled with Python's own optimisation flags (-O3 -DNDEBUG) without debug
# info, and with mmcv's common header precompiled once (.dev_scripts/pch_ninja.sh): most of
# an object's compile time is reading torch/types.h, which that header includes.
set -euo pipefail

(($# == 2)) || { echo "usage: $0 PY MMCV_VERSION" >&2; exit 2; }
PY=$1
MMCV_VERSION=$2
# Raise BUILD when the way of building changes what the wheel holds, so that cached wheels
# built the old way are not used. 2: the ops optimised (build 1 compiled them with -O0: the
# distutils in setuptools 80 took its CFLAGS="-g0" in place of Python's flags, not after them).
BUILD=2
CACHE=${MMFASTERNET_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mmfasternet}

die() { printf '\nmmcv build failed: %s\n' "$*" >&2; exit 1; }

# Compile mmcv's ops from the sdist in $1, printing ninja's [done/total] counter as it goes.
build() {
  local src=$1 out=$2 log=$1.log started=$SECONDS
  if "$PY" -c 'import sys, torch; sys.exit(tuple(map(int, torch.__version__.split(".")[:2])) < (2, 10))'; then
    # torch >= 2.10 headers require C++20; mmcv 2.1.0 hard-codes C++17 for its extension.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    grep -q -- '-std=c++20' "$src/setup.py" || die "could not switch mmcv's setup.py to -std=c++20"
  fi
  # setuptools' distutils takes $CFLAGS in place of Python's own flags: pass those (-O3
  # -DNDEBUG) with -g0 after their -g, and the precompiled header's folder first on the -I path.
  local pch=$src.pch
  mkdir -p "$pch/bin" "$pch/include"
  ln -sf "$(cd "$(dirname "$0")" && pwd)/pch_ninja.sh" "$pch/bin/ninja"
  local cflags
  cflags="$("$PY" -c 'import sysconfig; print(sysconfig.get_config_var("CFLAGS") or "")') -g0"
  if ! (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
      CFLAGS="$cflags -I$pch/include ${CFLAGS:-}" PATH="$pch/bin:$PATH" \
      PCH_HEADER="$src/mmcv/ops/csrc/common/pytorch_cpp_helper.hpp" \
      PCH_OUT="$pch/include/pytorch_cpp_helper.hpp.gch" \
      "$PY" -m pip wheel -v --no-deps --no-build-isolation . -w "$out") 2>&1 | tee "$log" \
      | while IFS= read -r line; do
          if [[ $line =~ ^[[:space:]]*\[([0-9]+)/([0-9]+)\] ]]; then
            printf '    compiled %s/%s objects (%dm%02ds)\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" \
              $(((SECONDS - started) / 60)) $(((SECONDS - started) % 60)) >&2
          fi
        done; then
    tail -n 40 "$log" >&2
    die "see $log"
  fi
  ls "$out"/mmcv-*.whl >/dev/null 2>&1 || die "no wheel was written (log: $log)"
}

versions=$("$PY" -c 'import sys, torch
print("torch%s-cp%d%d" % (torch.__version__.split("+")[0], *sys.version_info[:2]))')
wheel_dir=$CACHE/mmcv-$MMCV_VERSION-$versions-build$BUILD
if ! ls "$wheel_dir"/mmcv-*.whl >/dev/null 2>&1; then
  printf '\n==> building mmcv %s with ops (%s, first time on this machine)\n' "$MMCV_VERSION" \
    "$versions" >&2
  src=$(mktemp -d)
  "$PY" -m pip --disable-pip-version-check download -q --no-deps --no-binary :all: \
    --no-build-isolation "mmcv==$MMCV_VERSION" -d "$src" >&2
  tar -xzf "$src/mmcv-$MMCV_VERSION.tar.gz" -C "$src"
  rm -rf "$wheel_dir.partial" && mkdir -p "$wheel_dir.partial"
  build "$src/mmcv-$MMCV_VERSION" "$wheel_dir.partial"
  rm -rf "$wheel_dir" && mv "$wheel_dir.partial" "$wheel_dir"
  rm -rf "$src"
fi
ls "$wheel_dir"/mmcv-*.whl | head -n 1
