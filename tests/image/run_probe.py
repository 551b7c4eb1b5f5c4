"""Runs INSIDE the gateway container (podman exec, the image's own Python; no network but loopback).

run_probe.py            waits for readiness, then chat via `auto`, a streamed completion to [DONE], a bad key, and
                        what the container sees (process uids, network interfaces); prints the outcome as JSON.
run_probe.py in-flight  starts one slow stream, prints FIRST-CHUNK when the first chunk arrives (the test then
                        sends SIGTERM), reads on to [DONE] and prints the outcome if it still can.
"""

import json
import os
import sys
import time
from pathlib import Path

import httpx

URL = "http://127.0.0.1:4000"
KEY = os.environ["PROBE_KEY"]
AUTH = {"Authorization": f"Bearer {KEY}"}
MESSAGES = [{"role": "user", "content": "hello from the image test"}]


def ready(out):
    started = time.monotonic()
    while time.monotonic() - started < float(os.environ.get("PROBE_TIMEOUT", "300")):
        try:
            if httpx.get(f"{URL}/health/readiness", timeout=3).status_code == 200:
                out["ready_seconds"] = round(time.monotonic() - started, 1)
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False


def stream(model, on_first=None):
    chunks, done = 0, False
    # A prompt of its own: the local environment caches answers, and a cached stream would finish at once.
    messages = [{"role": "user", "content": f"{MESSAGES[0]['content']} ({os.urandom(6).hex()})"}]
    payload = {"model": model, "messages": messages, "stream": True}
    with httpx.stream("POST", f"{URL}/v1/chat/completions", headers=AUTH, json=payload, timeout=120) as response:
        for line in response.iter_lines():
            if not line.startswith("data: "):
                continue
            if line.strip() == "data: [DONE]":
                done = True
            else:
                chunks += 1
                if chunks == 1 and on_first:
                    on_first()
        return {"status": response.status_code, "chunks": chunks, "done": done}


def facts():
    """Every process's real and effective uid, and the network interfaces this container has."""
    uids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            line = next(x for x in status.read_text().splitlines() if x.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        uids.update(int(u) for u in line.split()[1:])
    caps = next(x for x in Path("/proc/self/status").read_text().splitlines() if x.startswith("CapEff:"))
    return {"uids": sorted(uids), "interfaces": sorted(os.listdir("/sys/class/net")), "cap_eff": caps.split()[1]}


def main():
    out = {}
    if not ready(out):
        print(json.dumps(out))
        sys.exit(1)
    if sys.argv[1:] == ["in-flight"]:
        out["stream"] = stream("economy", on_first=lambda: print("FIRST-CHUNK", flush=True))
        print(json.dumps(out), flush=True)
        return
    chat = httpx.post(f"{URL}/v1/chat/completions", headers=AUTH, json={"model": "auto", "messages": MESSAGES},
                      timeout=120)  # fmt: skip
    out["chat"] = {
        "status": chat.status_code,
        "body": chat.json() if chat.status_code == 200 else chat.text[:500],
        "route": {k: v for k, v in chat.headers.items() if k.startswith("x-gatekit-route-")},
    }
    out["stream"] = stream("economy")
    bad = httpx.post(f"{URL}/v1/chat/completions", headers={"Authorization": "Bearer sk-wrong"},
                     json={"model": "economy", "messages": MESSAGES}, timeout=60)  # fmt: skip
    out["bad_key_status"] = bad.status_code
    out["facts"] = facts()
    print(json.dumps(out))


main()
