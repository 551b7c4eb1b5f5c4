"""Runs INSIDE the gateway container (podman exec, the image's own Python; no network but loopback): waits for
readiness, then chat via `auto`, a streamed completion to [DONE], and a bad key; prints the outcome as JSON."""

import json
import os
import sys
import time

import httpx

URL = "http://127.0.0.1:4000"
KEY = os.environ["PROBE_KEY"]
out = {}
started = time.monotonic()
while time.monotonic() - started < float(os.environ.get("PROBE_TIMEOUT", "300")):
    try:
        if httpx.get(f"{URL}/health/readiness", timeout=3).status_code == 200:
            out["ready_seconds"] = round(time.monotonic() - started, 1)
            break
    except httpx.HTTPError:
        pass
    time.sleep(0.5)
if "ready_seconds" not in out:
    print(json.dumps(out))
    sys.exit(1)
auth = {"Authorization": f"Bearer {KEY}"}
messages = [{"role": "user", "content": "hello from the image test"}]
chat = httpx.post(f"{URL}/v1/chat/completions", headers=auth, json={"model": "auto", "messages": messages}, timeout=120)
out["chat"] = {"status": chat.status_code, "body": chat.json() if chat.status_code == 200 else chat.text[:500]}
chunks, done = 0, False
payload = {"model": "economy", "messages": messages, "stream": True}
with httpx.stream("POST", f"{URL}/v1/chat/completions", headers=auth, json=payload, timeout=120) as stream:
    out["stream_status"] = stream.status_code
    for line in stream.iter_lines():
        if line.startswith("data: "):
            if line.strip() == "data: [DONE]":
                done = True
            else:
                chunks += 1
out["stream"] = {"chunks": chunks, "done": done}
bad = httpx.post(
    f"{URL}/v1/chat/completions",
    headers={"Authorization": "Bearer sk-wrong"},
    json={"model": "economy", "messages": messages},
    timeout=60,
)
out["bad_key_status"] = bad.status_code
print(json.dumps(out))
