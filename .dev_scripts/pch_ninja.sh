#!/usr/bin/env bash
# `ninja` for torch's extension build (mmcv_wheel.sh puts it first on PATH as `ninja`): before
# ninja compiles, precompile mmcv's common header with build.ninja's own compiler and flags,
# and have every source read it first.
#
#   PCH_HEADER=.../pytorch_cpp_helper.hpp PCH_OUT=DIR/pytorch_cpp_helper.hpp.gch ninja ARGS...
#
# All 77 sources of mmcv 2.1 include that header (and with it torch/types.h), most of their
# compile time; 63 include it first, the rest after a header or two of their own or torch's.
# DIR is on the -I path ahead of mmcv's own include folder. Once the header is precompiled,
# build.ninja's flags get `-include` of it, so gcc reads the .gch before each source, and
# the header's own include guard skips it where the source includes it again (the header
# itself is linked beside the .gch for that). If precompiling fails, build.ninja is left as
# it is: mmcv's own build, only slower.
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
    ln -sf "$PCH_HEADER" "$(dirname "$PCH_OUT")/"
    sed -i "s|^cflags = |cflags = -include $(basename "$PCH_HEADER") |" build.ninja
    echo "precompiled $(basename "$PCH_HEADER") in $((SECONDS - started)) s" >&2
  else
    rm -f "$PCH_OUT.partial"
    echo "could not precompile $PCH_HEADER: compiling without it" >&2
  fi
fi
exec "$real" "$@"
