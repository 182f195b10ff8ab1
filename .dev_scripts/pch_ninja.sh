#!/usr/bin/env bash
# `ninja` for torch's extension build (mmcv_wheel.sh puts it first on PATH as `ninja`): before
# ninja compiles, precompile mmcv's common header with build.ninja's own compiler and flags.
#
#   PCH_HEADER=.../pytorch_cpp_helper.hpp PCH_OUT=DIR/pytorch_cpp_helper.hpp.gch ninja ARGS...
#
# 63 of mmcv 2.1's 77 sources include that header (and with it torch/extension.h) first,
# which is most of their compile time. DIR is on the -I path ahead of mmcv's own include
# folder, so gcc finds the .gch there and uses it whenever it was built with the same flags;
# otherwise it reads the header itself, and only the compile time differs.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
real=
IFS=: read -ra dirs <<<"$PATH"
for dir in "${dirs[@]}"; do
  [[ $(cd "$dir" 2>/dev/null && pwd) == "$here" ]] && continue
  [[ -x $dir/ninja ]] && { real=$dir/ninja; break; }
done
[[ -n $real ]] || { echo "pch_ninja.sh: no ninja on PATH besides this one" >&2; exit 127; }

if [[ -f build.ninja && -n ${PCH_HEADER:-} && -n ${PCH_OUT:-} && ! -f $PCH_OUT ]]; then
  value() { sed -n "s/^$1 = //p" build.ninja | head -n 1; }
  started=$SECONDS
  # build.ninja's values are shell words, as its `compile` rule uses them.
  if sh -c "$(value cxx) $(value cflags) -x c++-header '$PCH_HEADER' -o '$PCH_OUT.partial' \
      $(value post_cflags)"; then
    mv "$PCH_OUT.partial" "$PCH_OUT"
    echo "precompiled $(basename "$PCH_HEADER") in $((SECONDS - started)) s" >&2
  else
    rm -f "$PCH_OUT.partial"
    echo "could not precompile $PCH_HEADER: compiling without it" >&2
  fi
fi
exec "$real" "$@"
