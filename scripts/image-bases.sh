#!/usr/bin/env bash
# Bootstraps the two base images of image/Dockerfile from Debian packages, for machines that cannot pull the pinned
# registry bases (the release path, image/Dockerfile's ARG defaults). The versions are those of image/packages.lock.
#   builder: minbase + the [builder] set (python3.11, venv, tini, ca-certificates)       -> localhost/gatekit-base-builder
#   runtime: only the [runtime] set extracted (no dpkg, no shell, no package manager),
#            nonroot 65532, /tmp 1777 — distroless-like                                    -> localhost/gatekit-base-runtime
#   scripts/image-bases.sh                 bootstrap (skipped when both archives for this lock already exist)
#   scripts/image-bases.sh --refresh-lock  rewrite image/packages.lock from the archive's current candidate versions
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/image-env.sh"
LOCK=$REPO/image/packages.lock
SUITE=bookworm

section() { sed -n "/^\[$1\]/,/^\[/p" "$LOCK" | grep -E '^[a-z0-9].*=' ; }

if [ "${1:-}" = "--refresh-lock" ]; then
    apt-get update -qq
    tmp=$(mktemp)
    while IFS= read -r line; do
        case "$line" in
            *=*[!\ ]*) if [[ "$line" =~ ^([a-z0-9][a-z0-9.+-]*)= ]]; then
                           pkg=${BASH_REMATCH[1]}
                           ver=$(apt-cache policy "$pkg" | awk '/Candidate:/{print $2}')
                           [ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "no candidate for $pkg" >&2; exit 1; }
                           echo "$pkg=$ver"; continue
                       fi ;;
        esac
        echo "$line"
    done < "$LOCK" > "$tmp"
    mv "$tmp" "$LOCK"
    echo "image/packages.lock refreshed" >&2
    exit 0
fi

command -v mmdebstrap >/dev/null || { echo "image-bases: mmdebstrap is missing (make system installs it)" >&2; exit 1; }
# Each base is cached on its own package set and this recipe's version (bump RECIPE when the steps below change).
RECIPE=1
key() { { section "$1"; echo "$RECIPE $SUITE"; } | sha256sum | cut -c1-16; }
BKEY=$(key builder)
RKEY=$(key runtime)
mkdir -p "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY" "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY"
MIRROR=${GATEKIT_DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY="deb ${MIRROR%/debian}/debian-security $SUITE-security main"
SOURCES=(--setup-hook="echo 'deb $MIRROR $SUITE main' > \"\$1/etc/apt/sources.list\"; echo 'deb $MIRROR $SUITE-updates main' >> \"\$1/etc/apt/sources.list\"; echo '$SECURITY' >> \"\$1/etc/apt/sources.list\"")

# What was really installed: the .deb files apt fetched (name_version_arch), recorded before mmdebstrap cleans them.
RECORD='mkdir -p "$1/usr/share/gatekit" && ls "$1"/var/cache/apt/archives/*.deb | xargs -n1 basename | sed "s/\.deb$//; s/%3a/:/g" | sort > "$1/usr/share/gatekit/base-packages.txt" && test -s "$1/usr/share/gatekit/base-packages.txt"'

if [ ! -s "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.tar" ]; then
    echo "image-bases: bootstrapping the builder base ($SUITE, minbase)" >&2
    [ -d "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.d" ] || mmdebstrap --variant=minbase --mode=root --skip=cleanup/apt/lists --include="$(section builder | paste -sd,)" \
        "${SOURCES[@]}" --customize-hook="$RECORD" \
        --customize-hook='chroot "$1" dpkg-query -W -f="\${Package} \${Version} \${Architecture}\n" | sort > "$1/usr/share/gatekit/builder-dpkg.txt"' \
        "$SUITE" "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.d" "$MIRROR"
    tar -C "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.d" --numeric-owner -cf "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.tar.part" . && mv "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.tar.part" "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.tar"
    rm -rf "$GATEKIT_IMAGE_STATE/bases/builder-$BKEY/builder.d"
fi

if [ ! -s "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.tar" ]; then
    echo "image-bases: bootstrapping the runtime base ($SUITE, extract only)" >&2
    # Extracted, never configured (mmdebstrap runs no customize hook for this variant): the prune step does what the maintainer scripts would have (CA bundle,
    # users), then removes every executable but the interpreter, and the package manager's state.
    PRUNE='set -euo pipefail; r=$1
        mkdir -p "$r/usr/share/gatekit"
        ls "$r"/var/cache/apt/archives/*.deb | xargs -n1 basename | sed "s/\.deb$//; s/%3a/:/g" | sort \
            > "$r/usr/share/gatekit/base-packages.txt"
        test -s "$r/usr/share/gatekit/base-packages.txt"
        mkdir -p "$r/etc/ssl/certs"
        find "$r/usr/share/ca-certificates" -name "*.crt" | sort | xargs cat > "$r/etc/ssl/certs/ca-certificates.crt"
        test -s "$r/etc/ssl/certs/ca-certificates.crt"
        printf "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n" > "$r/etc/passwd"
        printf "root:x:0:\nnonroot:x:65532:\n" > "$r/etc/group"
        mkdir -p "$r/home/nonroot" "$r/tmp" "$r/root"; chown 65532:65532 "$r/home/nonroot"; chmod 1777 "$r/tmp"; chmod 700 "$r/root"
        for d in usr/bin usr/sbin bin sbin usr/local/bin; do
            [ -d "$r/$d" ] && [ ! -L "$r/$d" ] || continue
            find "$r/$d" -mindepth 1 -maxdepth 1 ! -name python3.11 -exec rm -rf {} +
        done
        rm -rf "$r/usr/lib/x86_64-linux-gnu/perl-base" "$r/usr/share/perl5" "$r/usr/lib/dpkg" "$r/usr/share/debconf" \
            "$r/var/cache/debconf" "$r/usr/share/doc" "$r/usr/share/man" "$r/usr/share/info" "$r/usr/share/lintian" \
            "$r/etc/apt" "$r/var/lib/apt" "$r/var/lib/dpkg" "$r/var/cache/apt" "$r/var/log"/*
        mkdir -p "$r/var/lib/dpkg"'
    rm -rf "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.d"
    mmdebstrap --variant=extract --mode=root --skip=cleanup/apt/cache --include="$(section runtime | paste -sd,)" \
        "${SOURCES[@]}" "$SUITE" "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.d" "$MIRROR"
    bash -c "$PRUNE" prune "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.d"
    tar -C "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.d" --numeric-owner -cf "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.tar.part" . && mv "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.tar.part" "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.tar"
    rm -rf "$GATEKIT_IMAGE_STATE/bases/runtime-$RKEY/runtime.d"
fi

for base in builder:$BKEY runtime:$RKEY; do
    name=${base%%:*} key=${base#*:}
    if ! podman image exists "localhost/gatekit-base-$name:$key"; then
        podman import --change "CMD []" "$GATEKIT_IMAGE_STATE/bases/$name-$key/$name.tar" \
            "localhost/gatekit-base-$name:$key" >/dev/null
    fi
done
echo "BUILDER_IMAGE=localhost/gatekit-base-builder:$BKEY"
echo "RUNTIME_IMAGE=localhost/gatekit-base-runtime:$RKEY"
