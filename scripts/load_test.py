"""Load: 20 devices pushing for 60 s at once, plus 8 parallel 40-megapixel photo completions,
against the server of scripts/serve.sh (gunicorn, gevent workers) on SQLite.

    .venv/bin/python scripts/load_test.py [--devices 20] [--seconds 60] [--photos 8]
                                          [--port 5102] [--url http://127.0.0.1:5102]

Without --url it starts scripts/serve.sh itself with a throwaway instance folder (demo data)
on --port and stops it afterwards. Each device signs in (as one of the demo trip's members, on
its own session), then pushes batches of 25 ops (counts and notes on the Hạ Lang inspection)
as fast as the server answers; a 503 is retried after Retry-After with the same ops, as the field
app does. While they push, 8 devices upload a 40-megapixel PNG each with tus and send their last
chunks at the same moment. Afterwards, reading the database directly: every op sent is recorded
exactly once, every photo is stored once. Prints the answers by status (the aim: no 5xx at all),
the push latency and the server's peak memory (sum of the resident memory of its processes,
sampled every 0.2 s; the aim: under 600 MB). Talks to the loopback address only, and stops by
itself.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import io
import os
import random
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
MEMBERS = ("leader", "inspector1", "inspector2")
BATCH = 25


class Tally:
    """Answers by status and push latencies, shared by every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.sent_ops: list[str] = []
        self.op_results: Counter = Counter()

    def answer(self, status: int, seconds: float | None = None) -> None:
        with self.lock:
            self.statuses[status] += 1
            if seconds is not None:
                self.latencies.append(seconds)


def sign_in(base: str, username: str, tally: Tally | None = None) -> tuple[requests.Session, dict]:
    """A signed-in session and its CSRF header (a 503 is retried after Retry-After)."""
    session = requests.Session()
    for _ in range(30):
        response = session.post(f"{base}/api/v1/auth/login",
                                json={"username": username, "password": "demo1234"}, timeout=60)
        if tally is not None:
            tally.answer(response.status_code)
        if response.status_code != 503:
            break
        time.sleep(float(response.headers.get("Retry-After", "1")))
    response.raise_for_status()
    return session, {"X-CSRF-Token": response.json()["csrf_token"]}


def post_retrying(session, url, tally: Tally, deadline: float,
                  **kwargs) -> requests.Response | None:
    """POST until an answer that is not 503 (waiting Retry-After, as the field app does)."""
    while time.monotonic() < deadline + 120:
        started = time.monotonic()
        try:
            response = session.post(url, timeout=120, **kwargs)
        except requests.RequestException:
            tally.answer("connection error")
            time.sleep(1)
            continue
        tally.answer(response.status_code, time.monotonic() - started)
        if response.status_code == 503:
            time.sleep(float(response.headers.get("Retry-After", "1")))
            continue
        return response
    return None


def device(base: str, number: int, inspection_id: int, items: dict, tally: Tally,
           deadline: float) -> None:
    """One tablet: pushes batches of ops until the deadline."""
    rng = random.Random(number)
    session, headers = sign_in(base, MEMBERS[number % len(MEMBERS)], tally)
    versions: dict[str, int] = {}
    while time.monotonic() < deadline:
        ops = []
        for code in rng.sample(items["all"], BATCH):
            fields = ({"value": rng.randint(0, 500)} if code in items["count"]
                      else {"note": f"Thiết bị {number}: ghi chú {rng.randint(0, 10**6)}"})
            ops.append({"op_id": str(uuid.uuid4()), "type": "observation.set",
                        "inspection_id": inspection_id, "item_code": code,
                        "base_version": versions.get(code, 0), "fields": fields,
                        "at": dt.datetime.now(dt.UTC).isoformat()})
        with tally.lock:
            tally.sent_ops.extend(op["op_id"] for op in ops)
        response = post_retrying(session, f"{base}/api/v1/sync/push", tally, deadline,
                                 json={"device_id": f"load-{number}", "ops": ops}, headers=headers)
        if response is None or response.status_code != 200:
            continue
        for op, result in zip(ops, response.json()["results"], strict=True):
            with tally.lock:
                tally.op_results[result["status"]] += 1
            if "version" in result:
                versions[op["item_code"]] = result["version"]


def big_png(seed: int) -> bytes:
    """A 40-megapixel PNG (8000 × 5000) that compresses well, different for every seed."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (8000, 5000), (200, 220, 240))
    draw = ImageDraw.Draw(image)
    rng = random.Random(seed)
    for _ in range(200):
        x, y = rng.randrange(8000), rng.randrange(5000)
        draw.rectangle((x, y, x + rng.randrange(50, 800), y + rng.randrange(50, 800)),
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=1)
    return out.getvalue()


def photo(base: str, number: int, inspection_id: int, data: bytes, barrier: threading.Barrier,
          tally: Tally, deadline: float, outcome: dict) -> None:
    """Upload one photo with tus: all but the last 64 KB, wait for the others, then the rest."""
    session, headers = sign_in(base, MEMBERS[number % len(MEMBERS)], tally)
    client_uuid = str(uuid.uuid4())
    meta = {"client_uuid": client_uuid, "inspection_id": str(inspection_id),
            "sha256": hashlib.sha256(data).hexdigest(), "filename": f"load-{number}.png",
            "caption": f"Ảnh thử tải {number}"}
    encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items())
    tus = {**headers, "Tus-Resumable": "1.0.0"}
    created = post_retrying(session, f"{base}/api/v1/uploads", tally, deadline,
                            headers={**tus, "Upload-Length": str(len(data)),
                                     "Upload-Metadata": encoded})
    location = base + created.headers["Location"]
    split = len(data) - 65536
    for start, end in ((0, split), (split, len(data))):
        if start == split:
            barrier.wait(timeout=300)  # the last chunks of all photos leave together
        while True:
            began = time.monotonic()
            response = session.patch(location, data=data[start:end], timeout=300, headers={
                **tus, "Upload-Offset": str(start),
                "Content-Type": "application/offset+octet-stream"})
            tally.answer(response.status_code, None)
            if response.status_code != 503:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        if start == split:
            outcome[client_uuid] = (response.status_code, response.headers.get("Photo-Id"),
                                    time.monotonic() - began)


def memory_of(pgid: int) -> tuple[int, dict[int, int]]:
    """Resident memory (bytes) of every process in the group: total and per process."""
    per = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[2]) != pgid:  # field 5 of stat: the process group
                continue
            with open(f"/proc/{entry}/statm") as f:
                per[int(entry)] = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    return sum(per.values()), per


def watch_memory(pgid: int, stop: threading.Event, peaks: dict) -> None:
    while not stop.is_set():
        total, per = memory_of(pgid)
        peaks["total"] = max(peaks.get("total", 0), total)
        peaks["process"] = max([peaks.get("process", 0), *per.values()])
        stop.wait(0.2)


def start_server(port: int, instance: Path) -> subprocess.Popen:
    env = {**os.environ, "PORT": str(port), "INSPECTION_INSTANCE_PATH": str(instance)}
    process = subprocess.Popen([str(ROOT / "scripts" / "serve.sh")], cwd=ROOT, env=env,
                               start_new_session=True, stdout=open(instance / "server.log", "w"),
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited: see {instance / 'server.log'}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("the server did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--photos", type=int, default=8)
    parser.add_argument("--port", type=int, default=5102)
    parser.add_argument("--url", help="a server already running (its database: --database)")
    parser.add_argument("--database", help="its SQLite file, to check what was recorded")
    args = parser.parse_args()
    instance = Path(tempfile.mkdtemp(prefix="cchc-load-"))
    server = None
    base = args.url or f"http://127.0.0.1:{args.port}"
    if urlsplit(base).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("only a server on this machine (loopback) may be targeted")
    database = Path(args.database) if args.database else instance / "inspection.db"
    if not args.url:
        print(f"starting scripts/serve.sh on port {args.port} (instance {instance})…")
        server = start_server(args.port, instance)
    try:
        session, _ = sign_in(base, "leader")
        assignments = session.get(f"{base}/api/v1/assignments", timeout=60).json()
        target = next(a for a in assignments["assignments"]
                      if a["inspection"]["state"] in ("in_progress", "planned"))
        inspection_id = target["inspection"]["id"]
        document = assignments["checklists"][str(target["inspection"]["checklist_version_id"])]
        every = [i for s in document["sections"] for i in s["items"]]
        items = {"all": [i["code"] for i in every],
                 "count": {i["code"] for i in every if i["kind"] == "count"}}
        print(f"preparing {args.photos} photos of 40 megapixels…")
        pictures = [big_png(n) for n in range(args.photos)]
        sizes = sorted(len(p) // 1024 for p in pictures)
        print(f"  PNG sizes: {sizes[0]}–{sizes[-1]} KB")

        tally, stop, peaks, outcome = Tally(), threading.Event(), {}, {}
        watcher = None
        if server is not None:
            watcher = threading.Thread(target=watch_memory, args=(server.pid, stop, peaks))
            watcher.start()
        idle = memory_of(server.pid)[0] if server is not None else 0
        deadline = time.monotonic() + args.seconds
        barrier = threading.Barrier(args.photos)
        threads = [threading.Thread(target=device, args=(base, n, inspection_id, items, tally,
                                                         deadline)) for n in range(args.devices)]
        threads += [threading.Thread(target=photo, args=(base, n, inspection_id, pictures[n],
                                                         barrier, tally, deadline, outcome))
                    for n in range(args.photos)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        stop.set()
        if watcher is not None:
            watcher.join()
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(60)

    with sqlite3.connect(database) as db:
        recorded = Counter(row[0] for row in db.execute("SELECT op_id FROM applied_ops"))
        feed = db.execute("SELECT count(*) FROM change_log WHERE kind = 'observation'"
                          ).fetchone()[0]
        photos = db.execute("SELECT count(*) FROM photos WHERE caption LIKE 'Ảnh thử tải %'"
                            ).fetchone()[0]
    sent = tally.sent_ops
    # Stored op ids: a UUID's 32 hex digits on SQLite.
    recorded_ids = {str(uuid.UUID(hex=str(k).replace("-", ""))) if not isinstance(k, bytes)
                    else str(uuid.UUID(bytes=k)): n for k, n in recorded.items()}
    missing = [op for op in sent if op not in recorded_ids]
    twice = [op for op, n in recorded_ids.items() if n > 1]
    five = sum(n for status, n in tally.statuses.items()
               if isinstance(status, int) and status >= 500)
    print(f"\n{args.devices} devices for {args.seconds:g} s, {args.photos} photos of 40 MP "
          f"(run {elapsed:.0f} s)")
    print(f"answers by status: {dict(sorted(tally.statuses.items(), key=str))}  → 5xx: {five}")
    print(f"ops sent {len(sent):,}; recorded {len(recorded_ids):,} "
          f"(missing {len(missing)}, recorded twice {len(twice)}); change feed {feed:,}; "
          f"op answers {dict(tally.op_results)}")
    if tally.latencies:
        ordered = sorted(tally.latencies)
        print(f"request latency: median {statistics.median(ordered) * 1000:.0f} ms, "
              f"p95 {ordered[int(len(ordered) * 0.95)] * 1000:.0f} ms, "
              f"max {ordered[-1] * 1000:.0f} ms; pushes/s "
              f"{len(ordered) / max(elapsed, 1):.1f}")
    done = [v for v in outcome.values() if v[0] == 204 and v[1]]
    print(f"photos: {len(done)}/{args.photos} completed (stored {photos}); completion took "
          + (f"{min(v[2] for v in done):.1f}–{max(v[2] for v in done):.1f} s" if done else "-"))
    if peaks:
        print(f"server memory: idle {idle / 2**20:.0f} MB, peak {peaks['total'] / 2**20:.0f} MB "
              f"(all processes), largest process {peaks['process'] / 2**20:.0f} MB")
    sys.exit(0 if five == 0 and not missing and not twice and len(done) == args.photos else 1)


if __name__ == "__main__":
    main()
