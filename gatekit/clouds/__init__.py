"""Pulumi programs for the gateway on GCP, Azure and any Kubernetes cluster, from the typed config.

`gatekit.clouds.program.run()` is what `pulumi/__main__.py` calls; every cloud module ends in the same
`GatewayComponent`, which creates the manifests of `gatekit.render.k8s.render_gateway_manifests`.
"""
