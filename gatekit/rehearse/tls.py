"""TLS for the rehearsal's local servers: a throwaway CA, a server certificate for loopback, and a PostgreSQL TLS front.

The CA and keys are generated per harness run, live only in the harness's work directory and never leave the machine.
`PostgresTlsFront` exists because the PostgreSQL 16 wheel the harness uses is built without OpenSSL: the front speaks
PostgreSQL's in-protocol TLS negotiation (SSLRequest -> 'S' -> handshake) and relays the decrypted stream to the
server's loopback port. Plaintext startups are refused, as a deployed database with TLS enforced refuses them."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SSL_REQUEST = 80877103
GSS_REQUEST = 80877104
CANCEL_REQUEST = 80877102


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_file, self.key_file)
        return ctx


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)


def make_certificates(directory: Path, hostnames: tuple[str, ...] = ("localhost",)) -> Certificates:
    """A new CA and a server certificate for 127.0.0.1, ::1 and `hostnames`, written under `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC)
    validity = (now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=2))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gatekit rehearsal CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName(h) for h in hostnames]
    names += [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(ipaddress.ip_address("::1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(validity[0])
        .not_valid_after(validity[1])
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    certs = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    certs.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(certs.key_file, key)
    return certs


def _error_response(message: str) -> bytes:
    body = b"SFATAL\x00C28000\x00M" + message.encode() + b"\x00\x00"
    return b"E" + struct.pack("!I", len(body) + 4) + body


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass  # the other side went away; closing below ends the relay
    finally:
        writer.close()


class PostgresTlsFront:
    """Listens on an ephemeral loopback port; each client must negotiate TLS, then is relayed to `backend_port`."""

    def __init__(self, certs: Certificates, backend_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.backend_port = backend_port
        self._ctx = certs.server_context()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.Server | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="pg-tls-front", daemon=True)

    def start(self) -> PostgresTlsFront:
        self._thread.start()
        if not self._ready.wait(10) or not self.port:
            raise RuntimeError("the PostgreSQL TLS front did not start")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, self.host, 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readexactly(8)
            length, code = struct.unpack("!II", head)
            if code == GSS_REQUEST:
                writer.write(b"N")
                await writer.drain()
                head = await reader.readexactly(8)
                length, code = struct.unpack("!II", head)
            if code == CANCEL_REQUEST:  # cancel requests may come unencrypted: pass them through
                rest = await reader.readexactly(length - 8)
                await self._relay(reader, writer, head + rest)
                return
            if code != SSL_REQUEST:
                writer.write(
                    _error_response("gatekit rehearsal: this server requires TLS (sslmode=require or stricter)")
                )
                await writer.drain()
                writer.close()
                return
            writer.write(b"S")
            await writer.drain()
            await writer.start_tls(self._ctx)
            await self._relay(reader, writer, b"")
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, first: bytes) -> None:
        b_reader, b_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
        if first:
            b_writer.write(first)
            await b_writer.drain()
        await asyncio.gather(_pipe(reader, b_writer), _pipe(b_reader, writer))
