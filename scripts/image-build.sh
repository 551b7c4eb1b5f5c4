#!/usr/bin/env bash
# `make image`: builds image/Dockerfile with podman (no Docker engine), cached on its inputs, and saves the archive
# the tests and the moat bundle use.
#   local (default): bases bootstrapped from Debian packages (scripts/image-bases.sh), registries never consulted,
#                    PRISMA_ENGINES=absent unless GATEKIT_PRISMA_ENGINES=bake (the engines host is unreachable here).
#   GATEKIT_IMAGE_RELEASE=1: the digest-pinned registry bases of image/Dockerfile and PRISMA_ENGINES=bake.
# Prints the image reference; writes .image/gateway.ref (reference, archive, SBOM), .image/gateway-<key>.tar
# (docker-archive) and .image/gateway-<key>.sbom.cdx.json (scripts/image-sbom.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/image-env.sh"
command -v podman >/dev/null || { echo "image-build: podman is missing (make system installs it)" >&2; exit 1; }
# One build at a time per state directory: a second caller (the image tests and the moat bundle build in one
# `make test`, or two shells) waits here, then finds the image up to date instead of building it again.
exec 9> "$GATEKIT_IMAGE_STATE/build.lock"
flock 9
cd "$REPO"
VERSION=$(awk -F'"' '/^version *=/{print $2; exit}' pyproject.toml)
REVISION=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
ARGS=(--build-arg "VERSION=$VERSION")
if [ "${GATEKIT_IMAGE_RELEASE:-0}" = 1 ]; then
    PRISMA=${GATEKIT_PRISMA_ENGINES:-bake}
    BASES="release"
    PULL=(--pull=missing)
else
    PRISMA=${GATEKIT_PRISMA_ENGINES:-absent}
    BASES=$(scripts/image-bases.sh)
    while IFS= read -r line; do ARGS+=(--build-arg "$line"); done <<< "$BASES"
    ARGS+=(--build-arg "BASE_NAME=gatekit-base-runtime (bootstrapped twin of gcr.io/distroless/cc-debian12)")
    PULL=(--pull=never)
fi
ARGS+=(--build-arg "PRISMA_ENGINES=$PRISMA")

# The cache key: every file the Dockerfile copies, the lock files, the bases and the switches (not the git revision,
# so a commit that changes no input reuses the image; the revision label says which commit first built it).
INPUTS=(image/Dockerfile image/packages.lock image/healthcheck.py image/prisma-engines.sh tools/uv-requirements.txt tools/build-requirements.txt
        pyproject.toml uv.lock README.md)
KEY=$( { find gatekit cdk config -type f ! -name '*.pyc' ! -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum
         sha256sum "${INPUTS[@]}"; echo "$BASES $PRISMA $VERSION"; } | sha256sum | cut -c1-16)
REF=localhost/gatekit-gateway:$KEY
ARCHIVE=$GATEKIT_IMAGE_STATE/gateway-$KEY.tar
if podman image exists "$REF"; then
    echo "image-build: $REF is up to date (inputs unchanged)" >&2
else
    echo "image-build: building $REF (log: $GATEKIT_IMAGE_STATE/build.log)" >&2
    start=$(date +%s)
    # TLS inside the build goes through this machine's egress path: the host CA bundle is mounted, never copied.
    CA=()
    [ -f /etc/ssl/certs/ca-certificates.crt ] && CA=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
    # --layers=false: one commit per stage. With vfs every layer is a full copy of the root filesystem (tens of GB
    # and most of the build time for this Dockerfile); the input-hash cache above replaces layer caching.
    if ! podman build --isolation chroot --network host --layers=false "${PULL[@]}" --format docker \
            "${CA[@]}" "${ARGS[@]}" --build-arg "REVISION=$REVISION" \
            --label "dev.gatekit.inputs=$KEY" -f image/Dockerfile -t "$REF" . > "$GATEKIT_IMAGE_STATE/build.log" 2>&1; then
        tail -40 "$GATEKIT_IMAGE_STATE/build.log" >&2
        echo "image-build: the build failed (full log: $GATEKIT_IMAGE_STATE/build.log)" >&2
        exit 1
    fi
    echo "image-build: built in $(( $(date +%s) - start )) s" >&2
fi
if [ ! -s "$ARCHIVE" ]; then
    rm -f "$GATEKIT_IMAGE_STATE"/gateway-*.tar
    # Only this project's store: older gateway builds and dangling intermediates go.
    for old in $(podman images --format '{{.Repository}}:{{.Tag}}'); do
        case "$old" in localhost/gatekit-gateway:*) [ "$old" = "$REF" ] || podman rmi --force "$old" >/dev/null ;; esac
    done
    podman image prune --force >/dev/null
    podman save --format docker-archive -o "$ARCHIVE.part" "$REF" && mv "$ARCHIVE.part" "$ARCHIVE"
fi
# The SBOM of what is really in the image (OS packages, tini, installed Python distributions, Prisma engines).
SBOM=$GATEKIT_IMAGE_STATE/gateway-$KEY.sbom.cdx.json
if [ ! -s "$SBOM" ]; then
    rm -f "$GATEKIT_IMAGE_STATE"/gateway-*.sbom.cdx.json
    python3 "$REPO/scripts/image-sbom.py" "$ARCHIVE" "$SBOM.part" && mv "$SBOM.part" "$SBOM"
fi
printf '%s\n%s\n%s\n' "$REF" "$ARCHIVE" "$SBOM" > "$GATEKIT_IMAGE_STATE/gateway.ref"
echo "$REF"
