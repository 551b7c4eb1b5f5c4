"""A fork server for the runbook drills: `gatekit` with the CLI (click, pydantic, boto3, httpx) already imported.

Runbook steps are real bash; on this 2-core machine most of a `gatekit ops …` call is interpreter start-up and imports
(seconds under load). The drill puts a small `gatekit` shim first on PATH that hands its argv, environment, working
directory and stdin/stdout/stderr file descriptors to this server over a UNIX socket; the server forks, the child
runs the real CLI entry point (`gatekit.cli:cli`) with exactly those, and the shim exits with the child's exit code.
The command line, environment, I/O and exit status are the real ones; only the interpreter start is shared.

Run: python -m tests.ops.drill.forkserver SOCKET_PATH
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import traceback

HEADER = 8
SHIM = """#!{python} -S
# `gatekit` for the runbook drills: runs the real CLI in the drill's fork server (tests/ops/drill/forkserver.py).
import json, os, socket, sys
payload = json.dumps({{"argv": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}}).encode()
sock = socket.socket(socket.AF_UNIX)
sock.connect({socket_path!r})
socket.send_fds(sock, [len(payload).to_bytes(8, "big") + payload], [0, 1, 2])
answer = sock.recv(4)
sys.exit(int.from_bytes(answer, "big", signed=True) if len(answer) == 4 else 70)
"""


def shim(socket_path: str) -> str:
    return SHIM.format(python=sys.executable, socket_path=socket_path)


def _preload() -> None:
    import boto3  # noqa: F401
    import httpx  # noqa: F401

    import gatekit.cli.ops.commands
    import gatekit.ops.config_rollback
    import gatekit.ops.db
    import gatekit.ops.push_config
    import gatekit.ops.secrets_ops
    import gatekit.ops.status
    import gatekit.ops.triage
    import gatekit.runtime.gates
    import gatekit.runtime.state  # noqa: F401


def _receive(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    while len(data) < HEADER or len(data) < HEADER + int.from_bytes(data[:HEADER], "big"):
        chunk = conn.recv(1 << 16)
        if not chunk:
            raise ConnectionError("shim closed the connection mid-request")
        data += chunk
    size = int.from_bytes(data[:HEADER], "big")
    return json.loads(data[HEADER : HEADER + size]), list(fds)


def _child(conn: socket.socket, request: dict[str, object], fds: list[int]) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(str(request["cwd"]))
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in dict(request["env"]).items()})  # type: ignore[call-overload]
    code = 1
    try:
        from gatekit.cli import cli

        cli.main(args=list(request["argv"]), prog_name="gatekit", standalone_mode=True)  # type: ignore[call-overload]
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        conn.sendall(int(code).to_bytes(4, "big", signed=True))
        os._exit(int(code))


def serve(socket_path: str) -> None:
    _preload()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    server = socket.socket(socket.AF_UNIX)
    server.bind(socket_path)
    server.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = server.accept()
        try:
            request, fds = _receive(conn)
        except (ConnectionError, ValueError) as exc:
            print(f"forkserver: bad request: {exc}", file=sys.stderr, flush=True)
            conn.close()
            continue
        if os.fork() == 0:
            server.close()
            _child(conn, request, fds)
        for fd in fds:
            os.close(fd)
        conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
