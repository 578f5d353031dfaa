#!/usr/bin/env bash
# Builds torchclr and runs its CTest suite against LibTorch 2.x: Debian 13's
# LibTorch 2.6 (with its g++ 14), in a Debian 13 chroot made by debootstrap
# from Debian's mirror, so nothing outside Debian's packages is downloaded.
# This checks the 1.13/2.x seam (include/torchclr/detail/version.h) on every
# CI run; a prefix of an official LibTorch 2.x is the same API.
#
#   sudo scripts/test_libtorch2.sh
#   TORCHCLR_LIBTORCH2_ROOT=/srv/trixie scripts/test_libtorch2.sh
#
# The chroot (about 1.5 GB) is kept under build-libtorch2/ and reused; only
# the sources are copied in again each time.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="${TORCHCLR_LIBTORCH2_ROOT:-$repo/build-libtorch2/trixie}"
mirror="${TORCHCLR_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
packages=(libtorch-dev libfmt-dev libgtest-dev libgmock-dev libgloo-dev
  libgoogle-perftools-dev libcli11-dev libbenchmark-dev
  zlib1g-dev libopenblas0-pthread cmake g++ make gnuplot-nox python3
  dataset-fashion-mnist)

# Where chroot is not allowed (not root, or a container without
# CAP_SYS_CHROOT) the stage is skipped, saying why, unless it is required.
if [ "$(id -u)" -ne 0 ] || ! chroot / /bin/true 2>/dev/null; then
  echo "SKIPPED: $0 needs root and chroot (debootstrap) on this machine" >&2
  [ "${TORCHCLR_REQUIRE_LIBTORCH2:-0}" = 1 ] && exit 1
  exit 0
fi
bash "$repo/scripts/install_deps.sh" # debootstrap, among the rest
if [ ! -e "$root/etc/debian_version" ]; then
  echo "== debootstrap Debian 13 (trixie) into $root"
  mkdir -p "$root"
  debootstrap --variant=minbase trixie "$root" "$mirror" >"$root.log" 2>&1 ||
    { tail -n 20 "$root.log" >&2; exit 1; }
fi

# apt and LibTorch like a /proc (the tests also pass without one, so a
# container that forbids the mount is no failure); unmounted again however
# this script ends.
if ! mountpoint -q "$root/proc" && mount -t proc proc "$root/proc" 2>/dev/null; then
  trap 'umount "$root/proc"' EXIT
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"

echo "== installing LibTorch 2.x and the build tools in the chroot"
chroot "$root" bash -c "
  set -e
  export DEBIAN_FRONTEND=noninteractive
  missing=\$(dpkg-query -W -f='\${db:Status-Status} \${Package}\n' ${packages[*]} 2>&1 |
    awk '\$1 != \"installed\" {print \$NF}')
  if [ -n \"\$missing\" ]; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends ${packages[*]} >/dev/null
  fi
  dpkg-query -W -f='LibTorch \${Version}\n' libtorch-dev"

# The working tree as git sees it (tracked and untracked, not ignored files).
# A fresh build every time: tar keeps the files' modification times, so an
# incremental build kept objects compiled from older headers (a reused chroot
# ran tests linked against a CyclicLR of another layout: heap corruption).
rm -rf "$root/src/torchclr" "$root/src/build"
mkdir -p "$root/src/torchclr"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
  tar --null -T - --ignore-failed-read -cf - 2>/dev/null) |
  tar -xf - -C "$root/src/torchclr"

echo "== build and CTest against LibTorch 2.x"
chroot "$root" bash -c "
  set -e
  cmake -S /src/torchclr -B /src/build -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build /src/build -j \$(nproc)
  cd /src/build && ctest --output-on-failure -j 2"
