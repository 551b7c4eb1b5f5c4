# Sourced by the image scripts: podman/buildah with project-local state only (never the machine's global container
# storage). GATEKIT_IMAGE_STATE (default <repo>/.image) holds vfs storage, run state, configs and the base archives.
# vfs: no overlay/fuse needed; runc: crun rejects some hosts' cgroup layouts; cgroupfs: no systemd session; no default
# ulimits: containers inherit the host's (rootful podman inside an unprivileged VM cannot raise them).
REPO=${REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
GATEKIT_IMAGE_STATE=${GATEKIT_IMAGE_STATE:-$REPO/.image}
mkdir -p "$GATEKIT_IMAGE_STATE"/{storage,run,tmp,bases}
cat > "$GATEKIT_IMAGE_STATE/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$GATEKIT_IMAGE_STATE/storage"
runroot = "$GATEKIT_IMAGE_STATE/run"
CONF
cat > "$GATEKIT_IMAGE_STATE/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$GATEKIT_IMAGE_STATE/run/events.log"
static_dir = "$GATEKIT_IMAGE_STATE/storage/libpod"
tmp_dir = "$GATEKIT_IMAGE_STATE/run/libpod"
volume_path = "$GATEKIT_IMAGE_STATE/storage/volumes"
CONF
export CONTAINERS_STORAGE_CONF=$GATEKIT_IMAGE_STATE/storage.conf
export CONTAINERS_CONF=$GATEKIT_IMAGE_STATE/containers.conf
# Registries are never consulted: an empty registries.conf (no search registries, no mirrors).
: > "$GATEKIT_IMAGE_STATE/registries.conf"
export CONTAINERS_REGISTRIES_CONF=$GATEKIT_IMAGE_STATE/registries.conf
export TMPDIR=$GATEKIT_IMAGE_STATE/tmp
export GATEKIT_IMAGE_STATE
