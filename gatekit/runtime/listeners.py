"""The listening sockets of a multi-worker replica: one per worker, all on the replica's port (SO_REUSEPORT).

The kernel hashes each new connection to one of the listening sockets of the group, so the workers' shares of
connections do not depend on which worker process wakes first (on one shared socket, the first worker to wake can
accept a whole burst of keep-alive connections and keep them: ADR 0032).

- The port stays fixed: every socket binds `gateway.port` (port 0, in tests: the first socket's port).
- A taken port fails loudly: before the group is bound, a plain socket (no SO_REUSEPORT) binds the port and is
  closed again. It fails with EADDRINUSE if anything listens there, even a SO_REUSEPORT group of the same user that
  our sockets would otherwise join silently.
- A socket that is bound but not listening gets no connections: a worker's socket joins the group when its server
  starts (uvicorn calls listen()), and leaves it when the worker, which holds the only copy, closes it or exits."""

from __future__ import annotations

import socket


def _socket(host: str, reuseport: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def claim_port(host: str, port: int) -> int:
    """The port the replica will serve (resolves 0); OSError (EADDRINUSE) if something already listens there."""
    with _socket(host, reuseport=False) as probe:
        probe.bind((host, port))
        return int(probe.getsockname()[1])


def bind_worker_socket(host: str, port: int) -> socket.socket:
    """One worker's listening socket, bound (not listening: the worker's server listens once it starts)."""
    sock = _socket(host, reuseport=True)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind_listeners(host: str, port: int, workers: int) -> tuple[int, list[socket.socket]]:
    """The replica's port and one socket per worker."""
    port = claim_port(host, port)
    sockets: list[socket.socket] = []
    try:
        for _ in range(workers):
            sockets.append(bind_worker_socket(host, port))
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return port, sockets
