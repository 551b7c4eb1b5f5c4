"""Bodies the gateway survives, against the real proxy: a 50 MB body is refused with 413 at once while liveness keeps
answering; slow-body clients are cut with 408 at the deadline and hold no in-flight slot meanwhile."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.security.conftest import BODY_DEADLINE, MAX_BODY, MAX_IN_FLIGHT, Gateway

FIFTY_MB = 50 * 1024 * 1024


class LivenessProbe:
    """Polls /health/liveliness from a thread while the test runs; records every answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.codes: list[int | str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(timeout=10) as client:
            while not self._stop.is_set():
                try:
                    self.codes.append(client.get(self.url + "/health/liveliness").status_code)
                except httpx.HTTPError as exc:
                    self.codes.append(type(exc).__name__)
                self._stop.wait(0.05)

    def __enter__(self) -> LivenessProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)


def chat(prompt: str) -> dict[str, object]:
    return {"model": "economy", "messages": [{"role": "user", "content": prompt}]}


def _time_to_response(port: int, key: str, body: bytes) -> tuple[bytes, float]:
    """Send the headers and the body from another thread; time the first response bytes from the headers."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        started = time.monotonic()
        sock.sendall(head.encode())

        def write() -> None:
            # the server may close once it has answered and lingered
            with contextlib.suppress(OSError):
                sock.sendall(body)

        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        first = sock.recv(65536)
        took = time.monotonic() - started
        writer.join(30)
        return first, took


def test_a_50_mb_body_gets_413_at_once_and_liveness_answers_throughout(db_on_gateway: Gateway) -> None:
    body = b'{"model": "auto", "messages": [{"role": "user", "content": "' + b"x" * FIFTY_MB + b'"}]}'
    with LivenessProbe(db_on_gateway.url) as probe:
        first, to_413 = _time_to_response(db_on_gateway.port, db_on_gateway.key, body)
        started = time.monotonic()
        r = httpx.post(
            db_on_gateway.url + "/v1/chat/completions",
            content=body,
            headers={**db_on_gateway.auth, "content-type": "application/json"},
            timeout=60,
        )
        elapsed = time.monotonic() - started
        time.sleep(0.5)  # a few more probes after the refusal
    print(
        f"50 MB body: 413 after {to_413:.3f} s (raw socket), whole exchange {elapsed:.3f} s (httpx); "
        f"liveness probes: {len(probe.codes)}"
    )
    assert first.startswith(b"HTTP/1.1 413"), first[:200]
    assert to_413 < 10, to_413
    assert r.status_code == 413, r.text
    assert "exceeds the limit" in r.json()["error"]["message"]
    assert elapsed < 10, elapsed  # measured well under a second on an idle machine; generous for a loaded one
    assert probe.codes and set(probe.codes) == {200}, probe.codes


def test_a_chunked_body_past_the_limit_gets_413(db_on_gateway: Gateway) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):  # 40 x 256 KiB = 10 MiB, no Content-Length
            yield b"y" * (256 * 1024)

    r = httpx.post(db_on_gateway.url + "/v1/chat/completions", content=chunks(), headers=db_on_gateway.auth, timeout=60)
    assert r.status_code == 413, r.text


def test_a_body_under_the_limit_is_served(db_on_gateway: Gateway) -> None:
    prompt = "z" * (MAX_BODY // 2)
    r = httpx.post(
        db_on_gateway.url + "/v1/chat/completions", json=chat(prompt), headers=db_on_gateway.auth, timeout=60
    )
    assert r.status_code == 200, r.text


def _slow_client(port: int, key: str, seconds: float) -> tuple[bytes, float]:
    """Declare a 100-byte body, then send one byte a second. Returns the response and when it came."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=BODY_DEADLINE + 60) as sock:
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {key}\r\nContent-Length: 100\r\n\r\n"
        )
        sock.sendall(head.encode())
        sock.setblocking(False)
        received = b""
        while time.monotonic() - started < seconds:
            try:
                sock.sendall(b" ")
            except OSError:
                break
            with contextlib.suppress(BlockingIOError):
                received += sock.recv(65536)
            if received:
                break
            time.sleep(1)
        sock.setblocking(True)
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
        return received, time.monotonic() - started


def test_slow_body_clients_are_cut_at_the_deadline_while_others_are_served(db_on_gateway: Gateway) -> None:
    slow_clients = MAX_IN_FLIGHT + 2  # more than every in-flight slot
    with ThreadPoolExecutor(slow_clients) as pool:
        slow = [pool.submit(_slow_client, db_on_gateway.port, db_on_gateway.key, 90) for _ in range(slow_clients)]
        time.sleep(1)  # the slow clients are mid-body
        served = []
        with httpx.Client(timeout=60) as client:
            while not all(f.done() for f in slow) or len(served) < 3:
                r = client.post(
                    db_on_gateway.url + "/v1/chat/completions", json=chat("hello"), headers=db_on_gateway.auth
                )
                served.append((r.status_code, all(f.done() for f in slow)))
        results = [f.result() for f in slow]
    print("slow clients:", [(raw.split(b"\r\n", 1)[0], round(t, 1)) for raw, t in results])
    for raw, took in results:
        assert raw.startswith(b"HTTP/1.1 408"), raw[:200]
        assert BODY_DEADLINE - 0.5 <= took < BODY_DEADLINE + 60, took
    during = [code for code, slow_done in served if not slow_done]
    assert during and set(during) == {200}, served  # served while every slow client was still sending
