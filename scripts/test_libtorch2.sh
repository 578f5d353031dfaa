#!/usr/bin/env bash
# Builds torchclr and runs its CTest suite against LibTorch 2.x: Debian 13's
# LibTorch 2.6 (with its g++ 14), in a Debian 13 chroot made by debootstrap
# from the Debian mirror this machine's apt uses, so nothing outside Debian's
# packages is downloaded. This checks the 1.13/2.x seam
# (include/torchclr/detail/version.h) on every CI run.
#
#   sudo scripts/test_libtorch2.sh            # prepare (if needed), build, test
#   sudo scripts/test_libtorch2.sh prepare    # only make (or reuse) the chroot
#   sudo scripts/test_libtorch2.sh check      # is the cached chroot whole? (0/1)
#
# The chroot (about 1.5 GB) lives in the cache outside the checkout,
# ${TORCHCLR_CACHE_DIR:-/var/cache/torchclr}/trixie (or
# TORCHCLR_LIBTORCH2_ROOT), and is reused while it is whole: a stamp written
# only after a complete install must match this script's package list, and
# dpkg must find every package installed and nothing half-configured;
# anything else and the chroot is deleted and made again. The compiler cache
# lives inside it (ccache, so a rerun compiles only what changed); the
# sources are copied in again and built from scratch each time.
#
# Exit status: 0 passed, 1 failed, 77 cannot run here (not root, or no
# chroot allowed), which scripts/test.sh reports as a failure under CI.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$repo/scripts/cache_dir.sh"
root="${TORCHCLR_LIBTORCH2_ROOT:-$TORCHCLR_CACHE_DIR/trixie}"
suite=trixie
packages=(libtorch-dev libfmt-dev libgtest-dev libgmock-dev libgloo-dev
  libgoogle-perftools-dev libcli11-dev libbenchmark-dev
  zlib1g-dev libopenblas0-pthread cmake g++ make gnuplot-nox python3
  dataset-fashion-mnist ccache)
# What a whole chroot was made from; a chroot with another stamp is remade.
stamp="recipe 2; $suite; ${packages[*]}"

if [ "$(id -u)" -ne 0 ] || ! chroot / /bin/true 2>/dev/null; then
  echo "CANNOT RUN: $0 needs root and chroot (debootstrap) on this machine" >&2
  exit 77
fi

# The mirror this machine's apt already uses (deb822 or one-line format).
mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb) ' /etc/apt/sources.list.d/*.sources \
    /etc/apt/sources.list 2>/dev/null | grep -v security |
    grep -oE 'https?://[^ ]+/debian/?' | head -n 1)
  echo "${TORCHCLR_DEBIAN_MIRROR:-${uri%/}}"
}

chroot_is_whole() {
  [ -f "$root/etc/debian_version" ] &&
    [ "$(cat "$root/.torchclr-stamp" 2>/dev/null)" = "$stamp" ] &&
    [ -z "$(chroot "$root" dpkg --audit 2>&1)" ] &&
    [ "$(chroot "$root" dpkg-query -W -f='${db:Status-Status}\n' \
      "${packages[@]}" 2>/dev/null | grep -cx installed)" = "${#packages[@]}" ] &&
    chroot "$root" g++ --version >/dev/null 2>&1
}

prepare() {
  if chroot_is_whole; then
    echo "chroot: reusing $root ($(chroot "$root" dpkg-query -W \
      -f='LibTorch ${Version}' libtorch-dev))"
    return
  fi
  if [ -e "$root" ]; then
    echo "chroot: $root is not a whole chroot of this recipe; making it again"
    if mountpoint -q "$root/proc"; then umount "$root/proc"; fi
    rm -rf --one-file-system "$root"
  fi
  bash "$repo/scripts/install_deps.sh" # debootstrap, among the rest
  local source
  source="$(mirror)"
  echo "chroot: debootstrap Debian 13 ($suite) from $source into $root"
  mkdir -p "$root"
  debootstrap --variant=minbase "$suite" "$root" "$source" >"$root.log" 2>&1 ||
    { tail -n 20 "$root.log" >&2; return 1; }
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  chroot "$root" bash -c "
    set -e
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ${packages[*]} >/dev/null
    apt-get clean"
  echo "$stamp" >"$root/.torchclr-stamp"
  chroot_is_whole || { echo "chroot: $root is not whole after install" >&2; return 1; }
  echo "chroot: made $root ($(chroot "$root" dpkg-query -W \
    -f='LibTorch ${Version}' libtorch-dev))"
}

build_and_test() {
  # apt and LibTorch like a /proc (the tests also pass without one, so a
  # container that forbids the mount is no failure); unmounted again however
  # this script ends.
  if ! mountpoint -q "$root/proc" && mount -t proc proc "$root/proc" 2>/dev/null; then
    trap 'umount "$root/proc"' EXIT
  fi
  # The working tree as git sees it (tracked and untracked, not ignored
  # files), built from scratch: an incremental build once kept objects
  # compiled from older headers. ccache makes the rebuild cheap.
  rm -rf "$root/src/torchclr" "$root/src/build"
  mkdir -p "$root/src/torchclr"
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
    tar -xf - -C "$root/src/torchclr"

  echo "== build and CTest against LibTorch 2.x"
  chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
    TORCHCLR_CACHE_DIR=/var/cache/torchclr \
    bash -c "
    set -e
    cd /src/torchclr
    BUILD_DIR=/src/build bash scripts/quiet.sh bash scripts/build.sh \
      -DTORCHCLR_TEST_SHARDS=${TORCHCLR_TEST_SHARDS:-4}
    bash scripts/run_ctest.sh /src/build"
}

case "${1:-}" in
  check) chroot_is_whole || exit 1 ;;
  prepare) prepare ;;
  *) prepare && build_and_test ;;
esac
