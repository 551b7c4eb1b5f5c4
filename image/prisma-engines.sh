#!/usr/bin/env bash
# The Prisma step of image/Dockerfile (builder stage), as a script so its refusal can be tested without a build
# (tests/image/test_prisma_engines.py):
#   prisma-engines.sh bake   VENV SCHEMA  -> `prisma generate` (downloads the query engine + Node.js into
#                                            $PRISMA_BINARY_CACHE_DIR), then lists the engine FILES with their sha256
#                                            in $PRISMA_HOME_DIR/ENGINES.sha256; exits non-zero, saying why, when no
#                                            query engine file for $PRISMA_CLI_BINARY_TARGETS results (an empty
#                                            directory, a stub or a wrong target never passes).
#   prisma-engines.sh absent             -> records the absence (DB-less gateway only; the image is labelled so).
set -euo pipefail
mode=${1:?usage: prisma-engines.sh bake VENV SCHEMA | absent}
home=${PRISMA_HOME_DIR:?PRISMA_HOME_DIR is not set}
cache=${PRISMA_BINARY_CACHE_DIR:?PRISMA_BINARY_CACHE_DIR is not set}
target=${PRISMA_CLI_BINARY_TARGETS:?PRISMA_CLI_BINARY_TARGETS is not set}
mkdir -p "$cache"
case "$mode" in
    bake)
        venv=${2:?bake needs the virtualenv}
        schema=${3:?bake needs the schema}
        "$venv/bin/prisma" generate --schema "$schema"
        "$venv/bin/prisma" --version
        # The query engine for the target, wherever the Prisma CLI put it (its npm cache or this directory): a real
        # engine is tens of MB, so a stub under 1 MiB does not count. It is placed where prisma-client-py looks first
        # at run time ($PRISMA_BINARY_CACHE_DIR/prisma-query-engine-<target>), then every engine file is listed.
        canonical="$cache/prisma-query-engine-$target"
        found=$(find "$cache" -type f \( -name "prisma-query-engine-$target" -o -name "query-engine-$target" \) \
                    -size +1M | sort | sed -n 1p)
        if [ -z "$found" ]; then
            echo "prisma-engines: no query engine for $target (over 1 MiB) under $cache after \`prisma generate\`;" \
                "files there: $(find "$cache" -type f -printf '%P ' | head -c 400)." \
                "Refusing to build an image without it (PRISMA_ENGINES=absent builds a DB-less image)." >&2
            exit 1
        fi
        [ "$found" = "$canonical" ] || cp "$found" "$canonical"
        chmod 0755 "$canonical"
        (cd "$home" && find "${cache#"$home"/}" -type f \( -name 'prisma-*engine*' -o -name '*query-engine-*' \) \
            -size +1M -exec sha256sum {} +) | sort -k2 > "$home/ENGINES.sha256"
        engine=${canonical#"$home"/}
        echo "prisma-engines: baked $(wc -l < "$home/ENGINES.sha256") engine file(s): $engine" >&2
        ;;
    absent)
        echo "# absent: built with PRISMA_ENGINES=absent (DB-less gateway only)" > "$home/ENGINES.sha256"
        ;;
    *)
        echo "prisma-engines: PRISMA_ENGINES must be bake or absent, not $mode" >&2
        exit 1
        ;;
esac
mkdir -p "${PRISMA_NODEENV_CACHE_DIR:-$home/nodeenv}"
