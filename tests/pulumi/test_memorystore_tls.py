"""Memorystore with in-transit encryption is reached by IP, and its server certificate names no IP address. The
REDIS_URL the gcp program stores must still verify the server against the instance CA — and connect. Checked with a
real TLS handshake (redis-py, as LiteLLM uses it) against a local server presenting such a certificate."""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import redis
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gatekit.clouds.plan import Plan
from tests.pulumi.conftest import resources

Plans = Callable[[str], Plan]


def _cert(name: str, key: ec.EllipticCurvePrivateKey, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None):
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_name, signer = issuer or (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if issuer is not None:  # like Memorystore's: a DNS-style name, no IP address SAN
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    """A TLS server on 127.0.0.1 answering AUTH and PING in RESP; its certificate has no IP SAN."""
    work = tmp_path_factory.mktemp("memorystore")
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = _cert("Google Cloud Memorystore Redis Server CA", ca_key, None)
    cert = _cert("memorystore.internal", key, (ca.subject, ca_key))
    (work / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (work / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (work / "key.pem").write_bytes(pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(work / "cert.pem", work / "key.pem")
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                while data := tls.recv(4096):
                    for _ in range(data.count(b"*")):  # one reply per RESP command array
                        tls.sendall(b"+PONG\r\n" if b"PING" in data.upper() else b"+OK\r\n")
        except (ssl.SSLError, OSError):
            return  # the client refused the certificate: nothing to serve

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], work / "ca.pem"
    stop.set()
    thread.join(timeout=10)
    listener.close()


def _program_url(plan_for: Plans) -> str:
    plan = plan_for("gcp")
    (version,) = [
        r for r in resources(plan, "gcp:secretmanager/secretVersion:SecretVersion") if r.name.endswith("redis-url-v")
    ]
    return version.inputs["secretData"].value


def _local(url: str, port: int, ca_file: Path) -> str:
    """The program's URL pointed at the local server by IP (as pods reach Memorystore) and at the local CA file."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["ssl_ca_certs"] = str(ca_file)
    netloc = parts.netloc.rsplit("@", 1)[0] + f"@127.0.0.1:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def test_the_programs_redis_url_verifies_the_instance_ca_and_connects_by_ip(
    plan_for: Plans, server: tuple[int, Path]
) -> None:
    url = _program_url(plan_for)
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["ssl_cert_reqs"] == "required"  # CA verification stays on
    assert query["ssl_ca_certs"].endswith("/redis-ca.pem")
    port, ca_file = server
    client = redis.Redis.from_url(_local(url, port, ca_file), socket_timeout=10)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_hostname_verification_by_ip_is_what_failed(server: tuple[int, Path]) -> None:
    port, ca_file = server
    before = f"rediss://:auth@127.0.0.1:{port}/0?ssl_cert_reqs=required&ssl_ca_certs={ca_file}"
    client = redis.Redis.from_url(before, socket_timeout=10)
    try:
        with pytest.raises(redis.ConnectionError, match=r"IP address mismatch|match"):
            client.ping()
    finally:
        client.close()


def test_a_server_signed_by_another_ca_is_still_refused(server: tuple[int, Path], plan_for: Plans, tmp_path) -> None:
    port, _ = server
    other = ec.generate_private_key(ec.SECP256R1())
    (tmp_path / "other.pem").write_bytes(_cert("other CA", other, None).public_bytes(serialization.Encoding.PEM))
    client = redis.Redis.from_url(_local(_program_url(plan_for), port, tmp_path / "other.pem"), socket_timeout=10)
    try:
        with pytest.raises(redis.ConnectionError, match="certificate verify failed"):
            client.ping()
    finally:
        client.close()
