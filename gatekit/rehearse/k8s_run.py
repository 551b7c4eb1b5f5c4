"""Rehearse a Pulumi target (gcp, azure, k8s): run its program as `pulumi up` would (under mocks: no cloud here),
take the Kubernetes manifests it applies and the stores it fills, bind them to this machine's servers, and run the
extracted Deployment through the rehearsal runner.

Stores, as the program fills them: gcp — Secret Manager versions (the generated DATABASE_URL/REDIS_URL and the
operator's `gatekit-secrets:*` stack config) synced into `<prefix>-gateway-secrets` by the SecretProviderClass;
azure — Key Vault secrets synced by the CSI driver's secretObjects; k8s — the operator's own Secrets (docs/pulumi.md),
created here as the operator would. The config document: gcp — the bucket object, served by a GCS emulator; k8s —
the mounted ConfigMap file; azure — see AZURE_BLOB (not reproduced: the mounted file stands in)."""

from __future__ import annotations

import os
import secrets as secrets_mod
import shutil
import tempfile
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

import yaml

from gatekit.clouds.common import operator_secret_vars
from gatekit.clouds.plan import Plan, run_plan
from gatekit.clouds.policy import Secret
from gatekit.config import Environment, load_environment
from gatekit.rehearse import services
from gatekit.rehearse.aws_target import ADMIN_NETWORK, rehearsal_overrides
from gatekit.rehearse.k8s import K8sExtraction, extract_k8s, materialise, remap_all
from gatekit.rehearse.report import Report
from gatekit.rehearse.runner import rehearse
from gatekit.rehearse.session import Shared
from gatekit.rehearse.spec import DatabaseSetup, NotReproduced, SecretSource
from gatekit.render.container import DATABASE_CA_FILE
from gatekit.render.sync_document import sync_document

PROVIDER_KEY_SECRET = "rehearsal-llm-key"
DB = {"gcp": ("litellm", "litellm"), "azure": ("gatekit", "litellm"), "k8s": ("litellm", "litellm")}  # user, db
AZURE_BLOB = NotReproduced(
    "Azure Blob config source",
    "replicas read the blob with DefaultAzureCredential (AKS workload identity); Azurite (npm) accepts OAuth only "
    "with a token from an Entra ID issuer, which does not exist here. The blob the program uploads is checked to be "
    "the ConfigMap's document; the replicas then sync that environment with config_sync.source=file from the mount",
)
DATABASE_CA = NotReproduced(
    "provider database CA",
    "the local PostgreSQL's CA stands in the ConfigMap for the provider's (Cloud SQL's server CA, Azure's roots): "
    "the replicas verify the server (verify-full, chain and name) against it exactly as deployed",
)
K8S_ONLY = [
    NotReproduced("Kubernetes scheduling", "no kubelet: the pod's containers run as local processes with its uid, env, "
                  "mounts and start order; Services, NetworkPolicy, HPA and PodDisruptionBudget are not exercised"),
    NotReproduced("OpenTelemetry collector sidecar", "not started; the gateway's OTLP exporter has no receiver"),
]  # fmt: skip


def _plain(node: Any) -> Any:
    if isinstance(node, Secret):
        return _plain(node.value)
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in cast("dict[Any, Any]", node).items()}
    if isinstance(node, list):
        return [_plain(v) for v in cast("list[Any]", node)]
    return getattr(node, "text", node)  # a StringAsset is its text


def manifests_of(plan: Plan) -> list[dict[str, Any]]:
    """What the program applies to the cluster: every kubernetes resource, as a manifest."""
    out: list[dict[str, Any]] = []
    for r in plan.resources:
        if r.type.startswith("kubernetes:") and not r.type.startswith("pulumi:providers"):
            out.append({"kind": r.type.rsplit(":", 1)[-1], **_plain(r.inputs)})
    return out


def uploaded_documents(plan: Plan) -> dict[str, str]:
    """Object-store uri -> the document the program uploads there."""
    out: dict[str, str] = {}
    for r in plan.resources:
        inputs = _plain(r.inputs)
        if r.type == "gcp:storage/bucketObject:BucketObject":
            out[f"gs://{inputs['bucket']}/{inputs['name']}"] = inputs["content"]
        elif r.type == "azure-native:storage:Blob":
            out[f"blob:{inputs['containerName']}/{inputs['blobName']}"] = inputs["source"]
    return out


def stored_secrets(plan: Plan) -> dict[str, str]:
    """Gateway variable -> the value the program stored for it, following the chain the cluster follows."""
    prefix = plan.environment.deployment.prefix
    values = {r.name: _plain(r.inputs) for r in plan.resources}
    out: dict[str, str] = {}
    for r in plan.resources:
        spec = _plain(r.inputs).get("spec", {})
        if not r.type.endswith(":SecretProviderClass"):
            continue
        params = spec.get("parameters", {})
        if spec.get("provider") == "gke":  # Secret Manager: resourceName -> that secret's version
            for item in yaml.safe_load(params["secrets"]):
                secret_id = item["resourceName"].split("/secrets/", 1)[1].split("/", 1)[0]
                out[item["path"]] = values[f"{prefix}-secret-{secret_id}-v"]["secretData"]
        elif spec.get("provider") == "azure":  # Key Vault: objectName -> that vault secret
            for raw in yaml.safe_load(params["objects"])["array"]:
                obj = yaml.safe_load(raw)
                out[obj["objectAlias"]] = values[f"{prefix}-kv-{obj['objectName']}"]["properties"]["value"]
    return out


def _rehost(url: str, host: str, port: int, password: str | None = None) -> str:
    """The stored URL with its (private) host and port replaced by the local server's; the credential too when the
    local server's is fixed (the shared Redis)."""
    parts = urlsplit(url)
    user = parts.username or ""
    secret = password if password is not None else parts.password
    auth = f"{user}:{secret}@" if secret is not None else (f"{user}@" if user else "")
    return urlunsplit((parts.scheme, f"{auth}{host}:{port}", parts.path, parts.query, ""))


@contextmanager
def _gcs(workdir: Path, bucket: str) -> Generator[tuple[str, Any], None, None]:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    with services.gcs_emulator(workdir / "gcs") as endpoint:
        client = cast(  # google-cloud-storage leaves many of its parameters untyped
            Any,
            storage.Client(
                project="rehearsal", credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint}
            ),
        )
        yield endpoint, client.create_bucket(bucket)


def _operator_values(env: Environment) -> dict[str, str]:
    """What the operator puts in the stack's secret config (or, for k8s, in the namespace's Secrets)."""
    out: dict[str, str] = {}
    for var in operator_secret_vars(env):
        out[var] = "rehearsal-demo-key" if PROVIDER_KEY_SECRET.upper().replace("-", "_") in var else (
            "sk-" + secrets_mod.token_urlsafe(24)
        )  # fmt: skip
    return out


def rehearse_pulumi(
    shared: Shared, env: Environment, pg: services.Postgres, workdir: Path, overrides: list[str]
) -> Report:
    all_overrides = [*overrides, *rehearsal_overrides(env, shared.mock_llm, PROVIDER_KEY_SECRET)]
    env = load_environment(env.name, shared.config_dir, all_overrides)
    operator = {**_operator_values(env), **shared.operator_values}
    plan = run_plan(env.name, Path(__file__).resolve().parents[2] / "pulumi", tuple(all_overrides), operator)
    documents = uploaded_documents(plan)
    manifests = manifests_of(plan)
    config_map = next(m for m in manifests if m["kind"] == "ConfigMap" and m["metadata"]["name"].endswith("-config"))
    not_reproduced = [*K8S_ONLY, ADMIN_NETWORK]
    if env.target == "azure":
        (blob,) = documents.values()
        config_map["data"]["GATEKIT_CONFIG_SOURCE"] = "file"
        config_map["data"]["GATEKIT_CONFIG_URI"] = "/etc/gatekit/config/environment.json"
        if config_map["data"].get("environment.json") != blob:
            raise RuntimeError("the blob the azure program uploads is not the ConfigMap's document")
        # The same environment, syncing from the mounted file: the only difference is gateway.config_sync.source
        # (a replica refuses a document whose source is not the one it is pointed at).
        standin = load_environment(env.name, shared.config_dir, [*all_overrides, "gateway.config_sync.source=file"])
        config_map["data"]["environment.json"] = sync_document(standin).text
        not_reproduced.append(AZURE_BLOB)
    if env.target == "gcp" and "redis-ca.pem" in config_map["data"] and shared.redis.ca_file is not None:
        # The instance's server CA (a Memorystore output) stands for the local Redis server's CA.
        config_map["data"]["redis-ca.pem"] = shared.redis.ca_file.read_text()
    if DATABASE_CA_FILE in config_map["data"]:
        # The provider's CA (Cloud SQL's server CA output, Azure's roots) stands in as the local server's CA: the
        # replicas verify-full against it exactly as deployed (security, issue 12).
        config_map["data"][DATABASE_CA_FILE] = pg.ca_file.read_text()
        not_reproduced.append(DATABASE_CA)
    doc_by_uri = {uri: text for uri, text in documents.items() if uri.startswith("gs://")}
    extraction = extract_k8s(manifests, shared.image, target=env.target, env_name=env.name, documents=doc_by_uri)
    extraction.deployment.not_reproduced.extend(not_reproduced)
    db_user, db_name = DB[env.target]
    extraction.deployment.database = DatabaseSetup(admin_user=db_user, database=db_name)
    with _mount_root(extraction) as root:
        materialise(extraction, root)
        return _run(shared, env, pg, workdir, plan, operator, extraction)


@contextmanager
def _mount_root(extraction: K8sExtraction) -> Generator[Path, None, None]:
    """Where ConfigMap volumes are projected: outside every path a process may write (the runner maps those, /tmp
    included, into each replica's sandbox), root-owned and readable; removed afterwards."""
    writable = {w for p in extraction.deployment.processes for w in p.writable_paths}
    for base in (Path("/var/tmp"), Path(tempfile.gettempdir())):
        if base.is_dir() and not any(str(base).startswith(w.rstrip("/") + "/") or str(base) == w for w in writable):
            break
    else:
        raise RuntimeError(f"no directory outside the writable paths {sorted(writable)} to project ConfigMaps into")
    root = Path(tempfile.mkdtemp(prefix="gatekit-rehearse-mounts-", dir=base))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _values(
    shared: Shared, env: Environment, pg: services.Postgres, plan: Plan, operator: dict[str, str], ex: K8sExtraction
) -> tuple[dict[str, str], str]:
    """Gateway variable -> value as the pod would see it, and the database user's password."""
    redis = shared.redis
    if env.target == "k8s":  # bring your own: the operator's Secrets hold URLs of their own servers
        password = secrets_mod.token_urlsafe(18)
        values = dict(operator)
        values["DATABASE_URL"] = pg.dsn(db=DB["k8s"][1], user=DB["k8s"][0], password=password)
        values["REDIS_URL"] = f"{redis.url}?ssl_cert_reqs=required&ssl_ca_certs={redis.ca_file}"
        return values, password
    values = stored_secrets(plan)
    database = urlsplit(values["DATABASE_URL"])
    values["DATABASE_URL"] = _rehost(values["DATABASE_URL"], pg.host, pg.port)
    if "REDIS_URL" in values:
        values["REDIS_URL"] = _rehost(values["REDIS_URL"], redis.host, redis.port, redis.password or "")
    return values, database.password or ""


def _run(
    shared: Shared,
    env: Environment,
    pg: services.Postgres,
    workdir: Path,
    plan: Plan,
    operator: dict[str, str],
    ex: K8sExtraction,
) -> Report:
    values, db_password = _values(shared, env, pg, plan, operator, ex)

    def remap(value: str) -> str:
        for mount in ex.mounts:
            value = mount.remap(value)
        return value

    values = {k: remap_all(v, remap) for k, v in values.items()}
    by_ref: dict[tuple[str, str | None], str] = {}
    for var, ref in ex.secret_refs.items():
        if var not in values:
            raise RuntimeError(f"the pod reads {var} from {ref.describe()}, which the deploy never fills")
        by_ref[(ref.name, ref.key)] = values[var]

    def resolve(source: SecretSource) -> str:
        return by_ref[(source.name, source.key)]

    overlay = {
        "SSL_CERT_FILE": str(shared.trust_bundle),
        "REQUESTS_CA_BUNDLE": str(shared.trust_bundle),
        "PRISMA_QUERY_ENGINE_BINARY": str(shared.engine),
    }
    source = ex.deployment.config_source
    if source.type == "gcs":
        bucket = urlsplit(source.uri).netloc
        with _gcs(workdir, bucket) as (endpoint, gcs_bucket):
            overlay["STORAGE_EMULATOR_HOST"] = endpoint

            def publish_gcs(document: str) -> None:
                gcs_bucket.blob(urlsplit(source.uri).path.lstrip("/")).upload_from_string(
                    document, content_type="application/json"
                )

            return rehearse(ex.deployment, shared.context(pg, workdir, resolve, publish_gcs, overlay),
                            db_passwords={DB[env.target][0]: db_password})  # fmt: skip
    path = Path(ex.mounts[0].remap(source.uri)) if ex.mounts else None
    if path is None or not path.is_file():
        raise RuntimeError(f"the mounted document {source.uri} was not materialised")

    def publish_file(document: str) -> None:  # `kubectl apply` of the ConfigMap; the kubelet swaps the file
        tmp = path.with_suffix(".tmp")
        tmp.write_text(document)
        tmp.chmod(0o644)
        os.replace(tmp, path)

    return rehearse(ex.deployment, shared.context(pg, workdir, resolve, publish_file, overlay),
                    db_passwords={DB[env.target][0]: db_password})  # fmt: skip
