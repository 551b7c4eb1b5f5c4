"""How secret references reach the gateway pod on Kubernetes: always `secretKeyRef`, never a value.

Three wirings:

* a secret store synced into the gateway Secret, one key per environment variable: GCP Secret Manager through GKE
  secret sync (a `SecretProviderClass` of provider `gke` and a `SecretSync`, no pod mount), Azure Key Vault and
  AWS Secrets Manager through the Secrets Store CSI driver's `secretObjects` (the pod mounts the CSI volume);
* bring-your-own (target `k8s`): `{secret: NAME, key: KEY}` is the cluster's Secret NAME, key KEY (default
  `value`); `{env: VAR}` and deployment-provided variables are key VAR of the gateway Secret;
* otherwise every variable is a key of the gateway Secret, which the deployment tool fills.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml

from gatekit.config.secrets import SecretRef

Manifest = dict[str, Any]
SECRETS_MOUNT = "/mnt/secrets-store"
BYO_DEFAULT_KEY = "value"


@dataclass(frozen=True)
class SecretStore:
    """A Secrets Store CSI provider and the store object behind each secret environment variable.

    `objects`: env var -> GCP secret version resource name, Key Vault secret name, or AWS secret ARN.
    `parameters`: provider parameters (Azure: keyvaultName, tenantId, clientID; AWS: region). Values may be
    deploy-time values (Pulumi Outputs, CDK tokens); they are placed verbatim.
    """

    provider: Literal["gcp", "azure", "aws"]
    objects: Mapping[str, str]
    parameters: Mapping[str, Any] = field(default_factory=dict[str, Any])


def secret_key_refs(
    refs: Mapping[str, SecretRef],
    extra: Iterable[str],
    *,
    gateway_secret: str,
    store: SecretStore | None,
    byo: bool,
) -> dict[str, Manifest]:
    """env var -> the `valueFrom` of that variable. Raises ValueError when a store lacks an object."""
    names = sorted({*refs, *extra})
    if store is not None:
        missing = [n for n in names if n not in store.objects]
        if missing:
            raise ValueError(f"secret store has no object for {', '.join(missing)}")
    out: dict[str, Manifest] = {}
    for name in names:
        ref = refs.get(name)
        if store is None and byo and ref is not None and ref.secret is not None:
            out[name] = {"secretKeyRef": {"name": ref.secret, "key": ref.key or BYO_DEFAULT_KEY}}
        else:
            out[name] = {"secretKeyRef": {"name": gateway_secret, "key": name}}
    return out


def _provider_parameters(store: SecretStore, names: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = dict(store.parameters)
    if store.provider == "gcp":
        params["secrets"] = yaml.safe_dump([{"resourceName": store.objects[n], "path": n} for n in names])
    elif store.provider == "azure":
        items = [
            yaml.safe_dump({"objectName": store.objects[n], "objectType": "secret", "objectAlias": n}) for n in names
        ]
        params["objects"] = yaml.safe_dump({"array": items})
        params.setdefault("usePodIdentity", "false")
    else:
        params["objects"] = yaml.safe_dump(
            [{"objectName": store.objects[n], "objectType": "secretsmanager", "objectAlias": n} for n in names]
        )
    return params


def needs_mount(store: SecretStore) -> bool:
    """CSI `secretObjects` sync happens while a pod mounts the volume; GKE secret sync needs no mount."""
    return store.provider != "gcp"


def secret_store_manifests(
    name: str, meta: Manifest, store: SecretStore, gateway_secret: str, service_account: str
) -> list[Manifest]:
    """The SecretProviderClass (and on GKE the SecretSync) that fill the gateway Secret from the store."""
    names = sorted(store.objects)
    spc: Manifest = {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": {**meta, "name": name},
        "spec": {"provider": "gke" if store.provider == "gcp" else store.provider},
    }
    spc["spec"]["parameters"] = _provider_parameters(store, names)
    if store.provider != "gcp":
        spc["spec"]["secretObjects"] = [
            {
                "secretName": gateway_secret,
                "type": "Opaque",
                "labels": dict(meta.get("labels", {})),
                "data": [{"objectName": n, "key": n} for n in names],
            }
        ]
        return [spc]
    sync: Manifest = {
        "apiVersion": "secret-sync.gke.io/v1",
        "kind": "SecretSync",
        # The synced Secret is named like the SecretSync.
        "metadata": {**meta, "name": gateway_secret},
        "spec": {
            "serviceAccountName": service_account,
            "secretProviderClassName": name,
            "secretObject": {"type": "Opaque", "data": [{"sourcePath": n, "targetKey": n} for n in names]},
        },
    }
    return [spc, sync]


def csi_volume(provider_class: str) -> Manifest:
    return {
        "name": "secrets-store",
        "csi": {
            "driver": "secrets-store.csi.k8s.io",
            "readOnly": True,
            "volumeAttributes": {"secretProviderClass": provider_class},
        },
    }
