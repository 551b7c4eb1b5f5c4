#!/usr/bin/env bash
# The type checker of `make lint` / `make typecheck` (docs/adr/0030-type-checker.md): basedpyright, configured in
# pyproject.toml [tool.basedpyright], as two processes in parallel, one a core: the CDK app (cdk/, app.py: aws-cdk-lib)
# and the package with the Pulumi programs (gatekit/, pulumi/: the Pulumi SDKs, LiteLLM). Each process loads only the
# cloud SDKs its half imports; together they check every file of `include`. Fails if either reports an error.
set -euo pipefail

VENV=${VENV:-.venv}
HEAP_MB=${TYPECHECK_HEAP_MB:-3072}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

check() {  # name, paths...
    local name=$1
    shift
    local rc=0
    NODE_OPTIONS="--max-old-space-size=$HEAP_MB" "$VENV/bin/basedpyright" "$@" >"$out/$name" 2>&1 || rc=$?
    echo "$rc" >"$out/$name.rc"
}

check cdk cdk app.py &
cdk_pid=$!
check package gatekit pulumi
wait "$cdk_pid"

status=0
for name in cdk package; do
    echo "== basedpyright: $name"
    cat "$out/$name"
    [ "$(cat "$out/$name.rc")" = 0 ] || status=1
done
exit "$status"
