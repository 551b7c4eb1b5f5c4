"""The listening sockets of a multi-worker replica (gatekit/runtime/listeners.py): one SO_REUSEPORT socket per
worker on one fixed port, and a port that is taken fails loudly instead of being shared."""

from __future__ import annotations

import errno
import socket
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from gatekit.runtime.listeners import bind_listeners, bind_worker_socket
from tests.conftest import free_port

HOST = "127.0.0.1"


def test_every_worker_gets_its_own_socket_on_the_one_port() -> None:
    port = free_port()
    got, sockets = bind_listeners(HOST, port, 3)
    try:
        assert got == port
        assert len({s.fileno() for s in sockets}) == 3
        assert {s.getsockname() for s in sockets} == {(HOST, port)}
        assert all(s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT) for s in sockets)
        assert all(s.get_inheritable() for s in sockets)
    finally:
        for s in sockets:
            s.close()


def test_port_0_resolves_to_one_port_for_all_workers() -> None:
    port, sockets = bind_listeners(HOST, 0, 2)
    try:
        assert port > 0
        assert {s.getsockname()[1] for s in sockets} == {port}
    finally:
        for s in sockets:
            s.close()


@pytest.mark.parametrize("reuseport", [False, True])
def test_a_port_something_listens_on_fails_loudly(reuseport: bool) -> None:
    """Even a SO_REUSEPORT listener of the same user, which the replica's sockets could join silently."""
    with socket.socket() as other:
        if reuseport:
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        other.bind((HOST, 0))
        other.listen()
        with pytest.raises(OSError) as exc:
            bind_listeners(HOST, other.getsockname()[1], 2)
        assert exc.value.errno == errno.EADDRINUSE


def test_the_kernel_spreads_connections_over_the_listening_sockets() -> None:
    """64 connections over 2 listening sockets: each gets some (hashing by address and port; a 0-of-64 share has a
    chance of 2^-63). A socket bound but not listening (a worker not started yet) gets none."""
    port, sockets = bind_listeners(HOST, 0, 3)
    listening, idle = sockets[:2], sockets[2]
    try:
        for s in listening:
            s.listen(128)
            s.setblocking(False)

        def connect(_: int) -> socket.socket:
            return socket.create_connection((HOST, port), timeout=10)

        with ThreadPoolExecutor(8) as pool:
            clients = list(pool.map(connect, range(64)))
        accepted: Counter[int] = Counter()
        for i, s in enumerate(listening):
            while True:
                try:
                    conn, _ = s.accept()
                except BlockingIOError:
                    break
                conn.close()
                accepted[i] += 1
        for c in clients:
            c.close()
        assert sum(accepted.values()) == 64, accepted  # every one on a listening socket
        with pytest.raises(OSError) as exc:
            idle.accept()
        assert exc.value.errno == errno.EINVAL  # never listened: nothing was queued on it
        assert min(accepted[0], accepted[1]) > 0, accepted
        # a replacement worker's socket binds while the others serve
        bind_worker_socket(HOST, port).close()
    finally:
        for s in sockets:
            s.close()
