#!/usr/bin/env bash
# Installs the Debian packages the test suite uses, only when something is missing.
set -euo pipefail
# command -> Debian package
declare -A NEEDED=(
  [node]=nodejs
  [curl]=curl
  [redis-server]=redis-server
  [strace]=strace
  [ip]=iproute2
  [unshare]=util-linux
  [sha256sum]=coreutils
  [openssl]=openssl
  # `make image`: podman builds image/Dockerfile without a Docker engine; mmdebstrap bootstraps the bases
  [podman]=podman
  [buildah]=buildah
  [mmdebstrap]=mmdebstrap
  [runc]=runc
  [newuidmap]=uidmap
  # the air-gapped registry rehearsal (tests/moat/test_registry_publish.py): a loopback registry and the bundle's
  # publishing step (skopeo copies the image archives into it)
  [skopeo]=skopeo
  [docker-registry]=docker-registry
)
missing=()
for cmd in "${!NEEDED[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEEDED[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "gatekit: missing system packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "gatekit: installing ${missing[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
