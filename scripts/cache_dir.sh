# Sourced by the build and test scripts: where caches live, outside any
# checkout, so a fresh clone (CI's) reuses what an earlier run on the same
# machine made. Override with TORCHCLR_CACHE_DIR.
if [ -z "${TORCHCLR_CACHE_DIR:-}" ]; then
  if [ "$(id -u)" -eq 0 ]; then
    TORCHCLR_CACHE_DIR=/var/cache/torchclr
  else
    TORCHCLR_CACHE_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/torchclr"
  fi
fi
export TORCHCLR_CACHE_DIR

# Sets `ccache_launcher` to the CMake arguments that compile through ccache
# (empty without ccache, or with TORCHCLR_CCACHE=0), its cache under
# $TORCHCLR_CACHE_DIR/ccache and paths taken relative to $1 (the source
# tree), so another clone's build of the same sources is a cache hit. ccache
# checks every entry it reads: a damaged one is a miss, compiled again.
use_ccache() {
  ccache_launcher=()
  if [ "${TORCHCLR_CCACHE:-1}" = 1 ] && command -v ccache >/dev/null; then
    export CCACHE_DIR="${CCACHE_DIR:-$TORCHCLR_CACHE_DIR/ccache}"
    export CCACHE_BASEDIR="$1" CCACHE_NOHASHDIR=1
    export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-10G}"
    # Precompiled headers made and used with -include need these (ccache's
    # manual, "Precompiled headers").
    export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
    ccache_launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
}
