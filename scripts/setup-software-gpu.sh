#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa lavapipe) so that WebGPU (Dawn) runs on a machine
# with no GPU. Debian 12's stock Mesa 22 is too old for Dawn; Mesa 25 from bookworm-backports
# works. Idempotent: re-running on a set-up machine does nothing but check.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi

# The Vulkan loader, found through the linker cache or in the usual library folders. The cache is read
# into a variable first: `ldconfig -p | grep -q` under pipefail fails whenever grep stops reading before
# ldconfig has written its whole listing (SIGPIPE), which a machine with many libraries makes likely.
has_vulkan_loader() {
  local ldconfig_bin cache=""
  ldconfig_bin=$(command -v ldconfig || echo /sbin/ldconfig)
  [ -x "$ldconfig_bin" ] && cache=$("$ldconfig_bin" -p 2>/dev/null || true)
  case "$cache" in *libvulkan.so.1*) return 0 ;; esac
  compgen -G '/usr/lib/*/libvulkan.so.1' >/dev/null || compgen -G '/lib/*/libvulkan.so.1' >/dev/null ||
    [ -e /usr/lib/libvulkan.so.1 ] || [ -e /usr/lib64/libvulkan.so.1 ]
}

has_lavapipe() {
  # lavapipe registers an ICD manifest; the Vulkan loader must be present too.
  compgen -G '/usr/share/vulkan/icd.d/lvp_icd*.json' >/dev/null && has_vulkan_loader
}

mesa_version() {
  dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true
}

if has_lavapipe && dpkg --compare-versions "$(mesa_version)" ge 24; then
  echo "setup-software-gpu: lavapipe already installed (mesa-vulkan-drivers $(mesa_version))"
  exit 0
fi

if ! command -v apt-get >/dev/null; then
  echo "setup-software-gpu: this script supports Debian/Ubuntu (apt-get) only." >&2
  echo "Install Mesa >= 24 with lavapipe (mesa-vulkan-drivers) and libvulkan1 by hand," >&2
  echo "or use the CPU backend: createDevice({ backend: 'cpu' })." >&2
  exit 1
fi

. /etc/os-release
codename="${VERSION_CODENAME:-}"

if [ "${ID:-}" = debian ] && [ "$codename" = bookworm ]; then
  # Build the backports source from the mirror the system already uses (never hard-code one).
  src=/etc/apt/sources.list.d/debian.sources
  uri=""
  if [ -f "$src" ]; then
    uri=$(awk '/^URIs:/ { print $2; exit }' "$src")
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $3 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
  fi
  if [ -z "$uri" ]; then
    echo "setup-software-gpu: could not read the Debian mirror from $src or /etc/apt/sources.list" >&2
    exit 1
  fi
  list=/etc/apt/sources.list.d/tessera-backports.list
  line="deb $uri ${codename}-backports main"
  if [ ! -f "$list" ] || ! grep -qxF "$line" "$list"; then
    echo "$line" | $SUDO tee "$list" >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t "${codename}-backports" \
    mesa-vulkan-drivers libvulkan1 >/dev/null
else
  # Newer Debian/Ubuntu releases ship a Mesa recent enough for Dawn.
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
fi

if ! has_lavapipe; then
  echo "setup-software-gpu: lavapipe did not install (no lvp_icd manifest or libvulkan.so.1)" >&2
  echo "  mesa-vulkan-drivers: $(mesa_version), libvulkan1: $(dpkg-query -W -f='${Version}' libvulkan1 2>/dev/null || true)" >&2
  echo "  ICD manifests: $(ls /usr/share/vulkan/icd.d/ 2>/dev/null | tr '\n' ' ')" >&2
  echo "  Vulkan loader files: $(dpkg -L libvulkan1 2>/dev/null | grep 'libvulkan.so' | tr '\n' ' ')" >&2
  exit 1
fi
echo "setup-software-gpu: installed mesa-vulkan-drivers $(mesa_version)"
