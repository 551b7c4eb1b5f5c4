"""Trust that the bundle cannot subvert: the operator's OpenSSL check (runbook step 1) and the installer refuse
re-signed, unsigned, altered, padded and downgraded bundles; a failed install leaves nothing."""

from __future__ import annotations

import json
import subprocess

from gatekit.moat.manifest import write_manifest
from tests.moat.trust_bundle import install, operator_check, private_key, small_bundle


def test_the_operator_check_passes_on_a_genuine_bundle(tmp_path):
    key, trusted = private_key(tmp_path / "release.key")
    bundle = small_bundle(tmp_path / "bundle", 100, key)
    proc = operator_check(bundle, trusted)
    assert proc.returncode == 0, proc.stderr
    assert "Signature Verified Successfully" in proc.stdout


def test_a_patched_and_re_signed_bundle_is_refused_by_the_operator_check(tmp_path):
    key, trusted = private_key(tmp_path / "release.key")
    attacker, _ = private_key(tmp_path / "attacker.key")
    bundle = small_bundle(tmp_path / "bundle", 100, key)
    (bundle / "wheelhouse" / "gatekit-0.1.0-py3-none-any.whl").write_bytes(b"patched gatekit")
    write_manifest(bundle, attacker)  # consistent MANIFEST, valid signature, bundled key replaced: all by the attacker
    proc = operator_check(bundle, trusted)
    assert proc.returncode != 0
    assert "Signature Verification Failure" in proc.stdout + proc.stderr
    refused = install(bundle, tmp_path / "prefix", "--trusted-key", str(trusted))
    assert refused.returncode == 1 and "does not verify with the trusted key" in refused.stderr
    assert not (tmp_path / "prefix").exists()


def test_an_altered_file_under_a_valid_signature_is_refused_by_the_operator_check(tmp_path):
    key, trusted = private_key(tmp_path / "release.key")
    bundle = small_bundle(tmp_path / "bundle", 100, key)
    (bundle / "wheelhouse" / "gatekit-0.1.0-py3-none-any.whl").write_bytes(b"patched gatekit")
    proc = operator_check(bundle, trusted)
    assert proc.returncode != 0 and "FAILED" in proc.stdout + proc.stderr


def test_unsigned_bundles_are_refused_by_default(tmp_path):
    _, trusted = private_key(tmp_path / "release.key")
    bundle = small_bundle(tmp_path / "bundle", 100, None)
    for args in (("--trusted-key", str(trusted)), ()):
        proc = install(bundle, tmp_path / "prefix", *args)
        assert proc.returncode == 1
        assert "refusing" in proc.stderr and "--allow-unsigned" in proc.stderr
        assert not (tmp_path / "prefix").exists()


def test_allow_unsigned_goes_on_and_a_failed_install_leaves_nothing(tmp_path):
    bundle = small_bundle(tmp_path / "bundle", 100, None)
    proc = install(bundle, tmp_path / "prefix", "--allow-unsigned")
    assert proc.returncode != 0
    assert "WARNING: installing without a verified signature" in proc.stderr
    assert "creating" in proc.stderr  # it got as far as pip, which refused the wheel's hash
    assert "nothing was left" in proc.stderr
    assert not (tmp_path / "prefix").exists()


def test_a_file_manifest_does_not_list_is_refused(tmp_path):
    key, trusted = private_key(tmp_path / "release.key")
    bundle = small_bundle(tmp_path / "bundle", 100, key)
    (bundle / "wheelhouse" / "zz_evil.pth").write_text("import os\n")
    proc = install(bundle, tmp_path / "prefix", "--trusted-key", str(trusted))
    assert proc.returncode == 1 and "files not listed in MANIFEST: wheelhouse/zz_evil.pth" in proc.stderr


def test_a_downgrade_is_refused_unless_forced_and_the_installation_is_kept(tmp_path):
    key, trusted = private_key(tmp_path / "release.key")
    prefix = tmp_path / "prefix"
    (prefix / "venv").mkdir(parents=True)
    (prefix / "venv" / "marker").write_text("the running installation")
    (prefix / "bundle.json").write_text(json.dumps({"serial": 200}))
    older = small_bundle(tmp_path / "older", 100, key)
    proc = install(older, prefix, "--trusted-key", str(trusted))
    assert proc.returncode == 1 and "refusing a downgrade" in proc.stderr and "100" in proc.stderr
    forced = install(older, prefix, "--trusted-key", str(trusted), "--allow-downgrade")
    assert "WARNING: downgrading from serial 200 to 100" in forced.stderr
    assert forced.returncode != 0 and "previous installation was restored" in forced.stderr  # pip refused the wheel
    assert (prefix / "venv" / "marker").read_text() == "the running installation"
    assert json.loads((prefix / "bundle.json").read_text())["serial"] == 200


def test_an_ecdsa_signed_bundle_verifies_with_the_documented_openssl_dgst(tmp_path):
    key, trusted = private_key(tmp_path / "kms-like.key", kind="ec")
    bundle = small_bundle(tmp_path / "bundle", 100, key)
    cmd = ["openssl", "dgst", "-sha256", "-verify", str(trusted), "-signature", "MANIFEST.sig", "MANIFEST"]
    proc = subprocess.run(cmd, cwd=bundle, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and "Verified OK" in proc.stdout
    refused = install(bundle, tmp_path / "prefix", "--trusted-key", str(private_key(tmp_path / "o.key", "ec")[1]))
    assert refused.returncode == 1 and "does not verify" in refused.stderr
