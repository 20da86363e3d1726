"""Chaos sync: many devices syncing through a bad network into a server that restarts and
crashes; afterwards the server must hold exactly the union of all edits.

    .venv/bin/python scripts/chaos_sync.py [--seed 7] [--devices 30] [--inspections 10]
                                           [--rounds 30] [--parallel 1] [--database-url URL]
                                           [--json]

Without --database-url it makes a throwaway SQLite database. The run is decided by the seed:
which edits each device makes, when it goes offline, which requests are cut or lose their
answer, which batches are sent twice or out of order, and when the server restarts or is killed.
Only whether the push in flight at the crash was committed depends on timing; with --parallel N,
N devices sync at the same moment, each device meets the same faults, and which of two racing
pushes wins depends on timing too. The checks hold either way. tests/chaos/test_chaos_sync.py runs
it on SQLite and PostgreSQL.

The world: the demo data, plus trips of two inspections each, six inspectors per trip, each
inspector with one tablet (30 devices, 10 inspections by default). Every round, each device that
is online makes a few edits as the field app does (static/js/outbox.js: one op per field, edits
of a field not yet sent are coalesced into the waiting op, an op handed to the server is never
changed, at most one op per field in a batch, queued ops rebased on the answer) — half of them on
a few "hot" items that the whole team touches, so edits clash — takes a photo now and then,
and syncs: push in batches, upload photos (tus), pull the change feed. A real server runs in a
subprocess (gunicorn, two workers) behind real sockets, and the network misbehaves:

- offline periods: a device stays offline for 1–4 rounds and keeps editing;
- cut requests: the body stops half-way and the connection closes (push, photo chunk);
- lost answers: the request arrives whole, the connection closes before the answer (push, pull,
  photo creation, photo chunk), so the device sends it again later;
- duplicated batches: a batch that was answered is delivered a second time;
- reordered batches: a device's batches leave newest first;
- a graceful restart, and a crash (SIGKILL of every server process) with a push in flight.

Then the devices come back online, drain their outboxes and pull everything, and `verify`
checks, reading the database directly: every op was recorded once and only once (AppliedOp,
and one change-feed entry per op); every edit is accounted for — it is the stored value (or was,
until an edit made on top of it replaced it), or a Conflict keeps it, or the same device replaced
it by a later edit; no value was ever overwritten by an edit made without seeing it unless a
Conflict says so; no Conflict was recorded where there was no clash; a writer's note or points
never applied while its own result or points wait as a Conflict on the item (they are held in
it, or taken back into it); every device ends with the
server's values; every photo taken is stored exactly once with the bytes taken.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PASSWORD = "chaos-mat-khau-1"
SECRET = "chaos-sync-secret"
VIETNAM = timezone(timedelta(hours=7))
START = datetime(2026, 11, 23, 8, 0, tzinfo=VIETNAM)
FIRST_DAY = date(2021, 11, 15)
# Communes of Hạ Lang valid in 2021 that the demo trip does not visit.
COMMUNES = ["01558", "01534", "01537", "01540", "01543", "01546", "01549", "01552", "01555",
            "01564", "01573"]
TEAM = 6  # inspectors per trip
PER_TRIP = 2  # inspections per trip
CHUNK = 16 * 1024  # photo bytes per PATCH (the field app sends 256 KB; photos here are small)


@dataclass
class Config:
    seed: int = 7
    devices: int = 30
    inspections: int = 10
    rounds: int = 30
    hot_items: int = 5  # per inspection, touched by the whole team
    max_edits: int = 3  # per device and round
    batch: int = 5  # ops per push
    photo_chance: float = 0.06  # per device and round
    offline: float = 0.2  # chance that an online device goes offline at a round
    cut_request: float = 0.07
    lost_answer: float = 0.08
    duplicate_batch: float = 0.08
    reorder: float = 0.5  # chance that a sync sends its batches newest first
    restart_round: int | None = None  # default: a third of the way
    crash_round: int | None = None  # default: two thirds of the way
    workers: int = 2  # gunicorn worker processes
    parallel: int = 1  # devices syncing at the same moment (1: the whole run is reproducible)


# ---------------------------------------------------------------------------------------------
# The world (run inside an app context, before the server starts)


def prepare(config: Config) -> None:
    """Demo data, the inspectors' accounts and the trips of the simulation (committed)."""
    from sqlalchemy import select

    from inspection.extensions import db
    from inspection.models import Plan, Role, User
    from inspection.services.accounts import create_user
    from inspection.services.demo import seed_demo
    from inspection.services.planning import create_trip
    from inspection.services.units import unit_valid_on

    seed_demo(with_minutes=False)
    plan = db.session.scalar(select(Plan))
    leader = db.session.scalar(select(User).where(User.username == "leader"))
    inspectors = [create_user(f"chaos{n:02d}", PASSWORD, f"Thanh tra viên {n:02d}", Role.inspector,
                              "Chuyên viên", check_strength=False)
                  for n in range(1, config.devices + 1)]
    trips = max(1, -(-config.inspections // PER_TRIP))
    for t in range(trips):
        day = FIRST_DAY + timedelta(days=t)
        codes = [COMMUNES[(t * PER_TRIP + k) % len(COMMUNES)]
                 for k in range(PER_TRIP) if t * PER_TRIP + k < config.inspections]
        team = inspectors[t::trips]
        create_trip(plan, f"Đợt kiểm tra thử tải {t + 1}", day, day, leader, team,
                    [unit_valid_on(code, day) for code in codes])
    db.session.commit()


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own process group, on a fixed port, so it can come back after a crash."""

    def __init__(self, database_url: str, instance: Path, media: Path, workers: int):
        self.port = free_port()
        self.env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": SECRET,
                    "MEDIA_ROOT": str(media), "INSPECTION_INSTANCE_PATH": str(instance),
                    "SESSION_COOKIE_SECURE": "0", "PYTHONPATH": str(ROOT)}
        self.workers = workers
        self.process: subprocess.Popen | None = None
        # errors of every server run, for a failure's report
        self.log = instance / "chaos-server.log"

    def start(self) -> None:
        command = [str(Path(PYTHON).with_name("gunicorn")), "--workers", str(self.workers),
                   "--bind", f"127.0.0.1:{self.port}", "--log-level", "error",
                   "--graceful-timeout", "10", "wsgi:app"]
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True,
                                            stdout=log, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}")
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                connection.request("GET", "/login")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
            finally:
                connection.close()
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        """Graceful: gunicorn finishes the requests in flight, then exits."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)

    def crash(self) -> None:
        """SIGKILL to the master and every worker at once: nothing is finished or cleaned up."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(30)


# ---------------------------------------------------------------------------------------------
# The network


class Lost(Exception):
    """The device got no answer (cut request, lost answer, server down)."""


def http_bytes(method: str, path: str, headers: dict, body: bytes,
               length: int | None = None) -> bytes:
    """A whole HTTP/1.1 request; `length` declares more bytes than `body` has (a cut request)."""
    length = len(body) if length is None else length
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {length}",
             "Connection: close"] + [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Network:
    """Requests of the devices to the server, with faults drawn from the run's random stream."""

    def __init__(self, server: Server, config: Config):
        self.server = server
        self.config = config
        self.faults: Counter = Counter()
        self.requests = 0
        self._lock = threading.Lock()

    def count(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def send(self, rng: random.Random, method: str, path: str, headers: dict, body: bytes = b"",
             may_cut: bool = False, may_lose: bool = True) -> tuple[int, dict, bytes]:
        """Send one request; returns (status, headers, body) or raises Lost. The faults are
        drawn from `rng`, the sending device's own stream."""
        with self._lock:
            self.requests += 1
        roll = rng.random()
        if may_cut and body and roll < self.config.cut_request:
            self.count("cut requests")
            self._deliver(method, path, headers, body[:rng.randint(0, len(body) - 1)],
                          declared=len(body))
            raise Lost
        if may_lose and roll > 1 - self.config.lost_answer:
            self.count("lost answers")
            self._deliver(method, path, headers, body, wait=True)
            raise Lost
        connection = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=60)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise Lost from exc
        finally:
            connection.close()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def _deliver(self, method, path, headers, body, declared=None, wait=False) -> None:
        """Write a request on a raw socket and close it without reading the answer. With `wait`,
        the server has read it all before the connection closes (it still answers into the
        void); otherwise the body stops short of its Content-Length."""
        try:
            with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as s:
                s.sendall(http_bytes(method, path, headers, body, declared))
                if wait:
                    s.shutdown(socket.SHUT_WR)
                    s.recv(1)  # the first byte of the answer: the server has done the work
        except OSError:
            pass


# ---------------------------------------------------------------------------------------------
# A device: the field app's outbox, photo queue and local copy, in a few lines each


@dataclass
class Op:
    op_id: str
    inspection_id: int
    item_code: str
    field: str
    value: object
    base_version: int
    at: str
    attempts: int = 0

    def wire(self) -> dict:
        return {"op_id": self.op_id, "type": "observation.set", "inspection_id": self.inspection_id,
                "item_code": self.item_code, "base_version": self.base_version,
                "fields": {self.field: self.value}, "at": self.at}


@dataclass
class PhotoJob:
    client_uuid: str
    inspection_id: int
    data: bytes
    sha256: str
    location: str | None = None
    done: bool = False


@dataclass
class Local:
    """The device's copy of one observation."""

    values: dict = field(default_factory=dict)
    version: int = 0
    bases: dict = field(default_factory=dict)


class Device:
    def __init__(self, username: str, number: int, network: Network, seed: int):
        self.username = username
        self.device_id = f"tablet-{number:02d}"
        self.network = network
        self.rng = random.Random(f"{seed}:{username}")  # what the inspector does
        self.net = random.Random(f"{seed}:{username}:network")  # what the network does to it
        self.cookie = ""
        self.csrf = ""
        self.user_id = 0
        self.items: dict[int, list[dict]] = {}  # inspection id -> editable items
        self.local: dict[tuple[int, str], Local] = {}
        self.outbox: list[Op] = []
        self.photos: list[PhotoJob] = []
        self.cursor = 0
        self.offline_until = -1
        self.clock = START + timedelta(seconds=number)
        self.made: dict[str, Op] = {}  # every op ever made, as sent
        self.answers: dict[str, dict] = {}  # op id -> the first answer that is not "duplicate"
        self.statuses: Counter = Counter()

    # -- talking to the server ----------------------------------------------------------------
    def headers(self, extra: dict | None = None) -> dict:
        return {"Cookie": self.cookie, "X-CSRF-Token": self.csrf, "Accept": "application/json",
                **(extra or {})}

    def request_json(self, method: str, path: str, body=None, may_cut=False, may_lose=True):
        data = json.dumps(body).encode() if body is not None else b""
        headers = self.headers({"Content-Type": "application/json"} if body is not None else {})
        status, _, raw = self.network.send(self.net, method, path, headers, data, may_cut, may_lose)
        return status, (json.loads(raw) if raw else None)

    def sign_in(self) -> None:
        status, headers, raw = self.network.send(
            self.net, "POST", "/api/v1/auth/login", {"Content-Type": "application/json"},
            json.dumps({"username": self.username, "password": PASSWORD}).encode(), may_lose=False)
        body = json.loads(raw)
        assert status == 200, body
        self.cookie = headers["set-cookie"].split(";", 1)[0]
        self.csrf = body["csrf_token"]
        self.user_id = body["user"]["id"]
        status, assignments = self.request_json("GET", "/api/v1/assignments", may_lose=False)
        assert status == 200, assignments
        for assignment in assignments["assignments"]:
            inspection = assignment["inspection"]
            document = assignments["checklists"][str(inspection["checklist_version_id"])]
            self.items[inspection["id"]] = [item for section in document["sections"]
                                            for item in section["items"] if item["kind"] != "ratio"]
            for obs in assignment["observations"]:
                self._take(inspection["id"], obs)

    # -- working offline ------------------------------------------------------------------------
    def tick(self) -> str:
        self.clock += timedelta(seconds=self.rng.randint(5, 90))
        return self.clock.isoformat()

    def edit(self) -> None:
        inspection_id = self.rng.choice(sorted(self.items))
        items = self.items[inspection_id]
        hot = items[:self.network.config.hot_items]
        item = self.rng.choice(hot if self.rng.random() < 0.5 else items)
        name, value = self._new_value(item)
        key = (inspection_id, item["code"])
        local = self.local.setdefault(key, Local())
        local.values[name] = value
        at = self.tick()
        waiting = [op for op in self.outbox if (op.inspection_id, op.item_code, op.field)
                   == (inspection_id, item["code"], name) and not op.attempts]
        if waiting:  # coalesced into the op not yet sent
            waiting[-1].value, waiting[-1].at = value, at
            return
        self.outbox.append(Op(self._uuid(), inspection_id, item["code"], name, value,
                              local.bases.get(name, local.version), at))

    def take_photo(self) -> None:
        from PIL import Image

        inspection_id = self.rng.choice(sorted(self.items))
        image = Image.frombytes("RGB", (120, 90), self.rng.randbytes(120 * 90 * 3))  # ~30 KB
        out = io.BytesIO()
        image.save(out, "JPEG", quality=90)
        data = out.getvalue()
        self.photos.append(PhotoJob(self._uuid(), inspection_id, data,
                                    hashlib.sha256(data).hexdigest()))

    def _new_value(self, item: dict) -> tuple[str, object]:
        if self.rng.random() < 0.25:
            return "note", f"Ghi chú {self.rng.randint(1, 40)} của {self.username}"
        kind = item["kind"]
        if kind == "count":
            return "value", self.rng.randint(0, 60)
        if kind == "text":
            return "text", f"Văn bản số {self.rng.randint(1, 30)}"
        if kind == "yesno":
            return "result", self.rng.choice(["pass", "fail", "partial", "na"])
        return "note", f"Ghi chú {self.rng.randint(1, 40)} của {self.username}"  # photo items

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # -- syncing --------------------------------------------------------------------------------
    def sync(self, batch_size: int) -> None:
        """Push the outbox, upload photos, pull; stops at the first request without an answer."""
        try:
            batches = self._batches(batch_size)
            if len(batches) > 1 and self.net.random() < self.network.config.reorder:
                self.network.count("reordered syncs")
                batches.reverse()
            for batch in batches:
                self.push(batch)
            for job in self.photos:
                if not job.done:
                    self.upload(job)
            self.pull()
        except Lost:
            pass

    def _batches(self, size: int) -> list[list[Op]]:
        """Like takeBatch: in order, one op per field per batch, later ones wait for the next."""
        batches, pending = [], list(self.outbox)
        while pending:
            batch, fields, rest = [], set(), []
            for op in pending:
                key = (op.inspection_id, op.item_code, op.field)
                if key in fields or len(batch) >= size:
                    rest.append(op)
                else:
                    fields.add(key)
                    batch.append(op)
            batches.append(batch)
            pending = rest
        return batches

    def push(self, batch: list[Op]) -> None:
        for op in batch:
            op.attempts += 1
            self.made.setdefault(op.op_id, op)
        body = {"device_id": self.device_id, "ops": [op.wire() for op in batch]}
        status, answer = self.request_json("POST", "/api/v1/sync/push", body, may_cut=True)
        assert status == 200, (status, answer)
        self._answered(batch, answer["results"])
        if self.net.random() < self.network.config.duplicate_batch:
            self.network.count("duplicated batches")
            status, again = self.request_json("POST", "/api/v1/sync/push", body, may_lose=False)
            assert status == 200 and all(r["status"] == "duplicate"
                                         for r in again["results"]), again
            self.statuses["duplicate"] += len(again["results"])

    def _answered(self, batch: list[Op], results: list[dict]) -> None:
        by_id = {op.op_id: op for op in batch}
        for result in results:
            op = by_id[result["op_id"]]
            status = result["status"]
            self.statuses[status] += 1
            first = dict(result, status=result.get("original_status", status))
            assert first["status"] in ("applied", "merged", "conflict"), result
            self.answers.setdefault(op.op_id, first)
            self.outbox.remove(op)
            local = self.local.setdefault((op.inspection_id, op.item_code), Local())
            local.bases[op.field] = max(result["version"], local.bases.get(op.field, 0))
            local.version = max(local.version, result["version"])
            if first["status"] == "conflict":
                continue
            for queued in self.outbox:  # edits made while it was in flight: on top of it
                if ((queued.inspection_id, queued.item_code, queued.field)
                        == (op.inspection_id, op.item_code, op.field)
                        and not queued.attempts and queued.base_version == op.base_version):
                    queued.base_version = result["version"]

    def upload(self, job: PhotoJob) -> None:
        tus = {"Tus-Resumable": "1.0.0"}
        if job.location is None:
            meta = {"inspection_id": str(job.inspection_id), "client_uuid": job.client_uuid,
                    "sha256": job.sha256, "filename": f"{job.client_uuid}.jpg"}
            encoded = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k,
                               v in meta.items())
            status, headers, _ = self.network.send(self.net, "POST", "/api/v1/uploads",
                                                   self.headers(
                {**tus, "Upload-Length": str(len(job.data)), "Upload-Metadata": encoded}))
            assert status == 201, status
            if "photo-id" in headers:
                job.done = True
                return
            job.location = headers["location"]
        status, headers, _ = self.network.send(self.net, "HEAD", job.location, self.headers(tus),
                                               may_lose=False)
        assert status == 200, status
        offset = int(headers["upload-offset"])
        while "photo-id" not in headers:
            chunk = job.data[offset:offset + CHUNK]
            status, headers, body = self.network.send(
                self.net, "PATCH", job.location,
                self.headers({**tus, "Upload-Offset": str(offset),
                              "Content-Type": "application/offset+octet-stream"}),
                chunk, may_cut=True)
            assert status == 204, (status, body)
            offset = int(headers["upload-offset"])
        job.done = True

    def pull(self) -> None:
        more = True
        while more:
            status, answer = self.request_json("GET",
                                               f"/api/v1/sync/pull?since={self.cursor}&limit=200")
            assert status == 200, answer
            for change in answer["changes"]:
                if change["kind"] == "observation":
                    self._take(change["inspection_id"], change["data"])
            self.cursor, more = answer["cursor"], answer["more"]

    def _take(self, inspection_id: int, data: dict) -> None:
        """A server copy of an observation: fields with no op waiting take the server's value."""
        key = (inspection_id, data["item_code"])
        local = self.local.setdefault(key, Local())
        if data["version"] < local.version:
            return
        waiting = {op.field for op in self.outbox if (op.inspection_id, op.item_code) == key}
        for name in ("result", "points", "value", "text", "note"):
            if name not in waiting:
                local.values[name] = data[name]
                local.bases[name] = data["version"]
        local.version = data["version"]


# ---------------------------------------------------------------------------------------------
# The run


@dataclass
class Run:
    config: Config
    devices: list[Device]
    network: Network
    seconds: float = 0.0
    restarts: int = 0
    crashes: int = 0
    crash_pushes: int = 0


def simulate(config: Config, database_url: str, instance: Path, media: Path) -> Run:
    """Run the devices against a real server (the world must be prepared); returns the record."""
    rng = random.Random(config.seed)
    server = Server(database_url, instance, media, config.workers)
    network = Network(server, config)
    devices = [Device(f"chaos{n:02d}", n, network,
                      config.seed) for n in range(1, config.devices + 1)]
    run = Run(config, devices, network)
    started = time.perf_counter()
    pool = ThreadPoolExecutor(config.parallel) if config.parallel > 1 else None
    server.start()
    try:
        for device in devices:
            device.sign_in()
        restart_round = config.rounds // 3 if config.restart_round is None else config.restart_round
        crash_round = 2 * config.rounds // 3 if config.crash_round is None else config.crash_round
        for round_number in range(config.rounds):
            if round_number == restart_round:
                server.stop()
                server.start()
                run.restarts += 1
            if round_number == crash_round:
                _crash_during_a_push(run, rng)
            online = []
            for device in devices:
                if device.offline_until < round_number and device.rng.random() < config.offline:
                    device.offline_until = round_number + device.rng.randint(1, 4)
                    network.count("offline periods")
                for _ in range(device.rng.randint(0, config.max_edits)):
                    device.edit()
                if device.rng.random() < config.photo_chance:
                    device.take_photo()
                if device.offline_until < round_number:
                    online.append(device)
            if pool is None:
                for device in online:
                    device.sync(config.batch)
            else:  # several devices at once: pushes race each other on the server
                list(pool.map(lambda device: device.sync(config.batch), online))
        # Signal everywhere, no more faults: every device drains its queues and catches up.
        config_quiet = Config(**{**asdict(config), "cut_request": 0, "lost_answer": 0,
                                 "duplicate_batch": 0, "reorder": 0})
        network.config = config_quiet
        for device in devices:
            while device.outbox or not all(job.done for job in device.photos):
                device.sync(config.batch)
        for device in devices:
            device.pull()
    except Exception as exc:
        log = server.log.read_text(errors="replace") if server.log.exists() else ""
        raise RuntimeError(f"the run failed: {exc!r}; the server said:\n{log[-6000:]}") from exc
    finally:
        if pool is not None:
            pool.shutdown()
        server.stop()
        run.seconds = time.perf_counter() - started
    return run


def _crash_during_a_push(run: Run, rng: random.Random) -> None:
    """Kill the server while a device's push is being worked on, then start it again."""
    device = rng.choice(run.devices)
    for _ in range(3):
        device.edit()
    batch = device._batches(run.config.batch)[0]
    for op in batch:
        op.attempts += 1
        device.made.setdefault(op.op_id, op)
    body = json.dumps({"device_id": device.device_id, "ops": [op.wire() for op in batch]}).encode()
    raw = http_bytes("POST", "/api/v1/sync/push",
                     device.headers({"Content-Type": "application/json"}), body)
    with socket.create_connection(("127.0.0.1", run.network.server.port), timeout=60) as s:
        s.sendall(raw)
        time.sleep(rng.uniform(0.0, 0.05))
        run.network.server.crash()
    run.crashes += 1
    run.crash_pushes += len(batch)
    run.network.server.start()


# ---------------------------------------------------------------------------------------------
# The checks (inside an app context, on the same database)


LOSSES = {"never recorded", "not applied", "overwritten silently", "clash without Conflict",
          "photo missing"}
DUPLICATES = {"applied twice", "photo stored twice"}


def verify(run: Run) -> dict:
    """Check the database against what the devices did; returns figures and failures."""
    from sqlalchemy import select

    from inspection.extensions import db
    from inspection.models import AppliedOp, ChangeLog, Conflict, Observation, Photo
    from inspection.services.storage import get_storage

    failures: list[tuple[str, str]] = []  # (kind, detail)

    def fail(kind: str, detail: str) -> None:
        failures.append((kind, detail))

    ops = {op_id: (device, op) for device in run.devices for op_id, op in device.made.items()}
    writer = {op_id: f"{device.user_id}:{device.device_id}" for op_id, (device, _) in ops.items()}

    # Every op recorded once (AppliedOp's key is the op id), nothing else, nothing rejected.
    recorded = {str(row.op_id): row for row in db.session.scalars(select(AppliedOp).where(
        AppliedOp.user_id.in_({device.user_id for device in run.devices})))}
    for op_id in ops.keys() - recorded.keys():
        fail("never recorded", op_id)
    for op_id in recorded.keys() - ops.keys():
        fail("recorded but never made", op_id)
    for op_id, row in recorded.items():
        if row.status == "rejected":
            fail("rejected", f"{op_id}: {row.result}")
        device = ops[op_id][0] if op_id in ops else None
        told = device.answers.get(op_id, {}).get("status") if device else None
        if told is not None and told != row.status:
            fail("answer differs", f"{op_id}: device was told {told}, server has {row.status}")
    for device in run.devices:
        if device.outbox or any(op_id not in device.answers for op_id in device.made):
            fail("never answered", device.device_id)

    # The change feed: one entry per op, then each field's history walked in feed order.
    inspection_ids = {op.inspection_id for _, op in ops.values()}
    entries = defaultdict(list)
    per_op = Counter()
    for entry in db.session.scalars(select(ChangeLog).where(
            ChangeLog.kind == "observation", ChangeLog.inspection_id.in_(inspection_ids))
            .order_by(ChangeLog.id)):
        per_op[entry.payload.get("op_id")] += 1
        entries[(entry.inspection_id, entry.payload["item_code"])].append(entry.payload)
    for op_id in ops:
        if per_op[op_id] > 1:
            fail("applied twice", f"{op_id} is in the change feed {per_op[op_id]} times")
        elif per_op[op_id] == 0:
            fail("not applied", f"{op_id} is not in the change feed")
    conflicts = db.session.scalars(select(Conflict).where(
        Conflict.inspection_id.in_(inspection_ids))).all()
    conflict_of = {(str(c.incoming_op_id), c.field): c for c in conflicts}
    if len(conflict_of) != len(conflicts):
        fail("Conflict twice", "an op has two Conflicts for one field")
    walked_conflicts = set()
    # Proposals beyond the first and the latest few of a field are folded: counted, not kept.
    folded_of = Counter()
    for c in conflicts:
        folded_of[(c.inspection_id, c.item_code, c.field)] += c.folded
    unkept = Counter()
    # Judgements (issue 14): a writer's result or points waiting as a Conflict, by (item, writer).
    proposals_of: dict[tuple, list] = defaultdict(list)
    for c in conflicts:
        if c.field in ("result", "points"):
            incoming = c.incoming_value
            proposals_of[(c.inspection_id, c.item_code,
                          f"{incoming.get('by')}:{incoming.get('device')}")].append(c)
    for key, payloads in entries.items():
        fields: dict[str, tuple] = {}  # field -> (value, version it was set at, its writers)
        # writer -> [(field, op id)] of its result/points proposals whose Conflict is kept (a
        # kept Conflict existed from its op on: folding only removes ones in between)
        proposed: dict[str, list] = defaultdict(list)
        for payload in payloads:
            op_id = payload.get("op_id")
            if op_id not in ops:
                fail("unknown change", f"{key}: {payload}")
                continue
            op, mine = ops[op_id][1], writer[op_id]
            name, new = op.field, _norm(payload[op.field])
            for reverted, meta in (payload.get("reverted") or {}).items():
                # An explanation of this writer taken back into its Conflict: where it is now.
                if mine not in fields.get(reverted, (None, 0, frozenset()))[2]:
                    fail("explanation taken back", f"{op_id}: {reverted} was not {mine}'s")
                fields[reverted] = (_norm(payload[reverted]), meta["version"],
                                    frozenset(meta["by"]))
            value, set_at, writers = fields.get(name, (None, 0, frozenset()))
            clash = op.base_version < set_at and mine not in writers and value != _norm(op.value)
            waits = [f for f, _ in proposed[mine]
                     if mine not in fields.get(f, (None, 0, frozenset()))[2]]
            if name in payload.get("held", []):
                # It waits with this writer's result or points in conflict on the item.
                if new != value:
                    fail("held but applied", f"{op_id}: {name} became {new!r}")
                if not proposals_of.get(key + (mine,)) and not any(
                        folded_of[key + (f,)] for f in ("result", "points")):
                    fail("held without its conflict", f"{op_id}: no Conflict of {mine} on {key}")
                continue
            if name in ("points", "note") and waits and new == _norm(op.value) != value:
                fail("explanation applied while its result waits",
                     f"{op_id}: {name}={op.value!r} while {waits} of {mine} wait")
            if name in payload.get("conflicts", []):
                if name in ("result", "points") and (op_id, name) in conflict_of:
                    proposed[mine].append((name, op_id))
                walked_conflicts.add((op_id, name))
                conflict = conflict_of.get((op_id, name))
                if conflict is None:
                    unkept[key + (name,)] += 1
                    if unkept[key + (name,)] > folded_of[key + (name,)]:
                        fail("clash without Conflict", f"{op_id} on {name}: no Conflict row")
                elif not clash:
                    fail("Conflict without clash", f"{op_id} on {name}: base {op.base_version}, "
                                                   f"set at {set_at}")
                elif _norm(conflict.incoming_value["value"]) != _norm(op.value):
                    fail("clash without Conflict", f"{op_id}: the Conflict keeps another value")
            elif name in payload.get("superseded", []):
                if not any(writer[o_id] == mine and o.at > op.at
                           and (o.inspection_id, o.item_code, o.field) == key + (name,)
                           for o_id, (_, o) in ops.items()):
                    fail("not applied", f"{op_id}: {name} superseded without a later edit")
            elif new != _norm(op.value):
                fail("not applied", f"{op_id}: {name} became {new!r}, not {op.value!r}")
            elif new == value:
                fields[name] = (value, set_at, writers | {mine})  # agreement
            else:
                if clash and value is not None:
                    fail("overwritten silently", f"{op_id} replaced {name}={value!r} (set at "
                                                 f"version {set_at}) from base {op.base_version}")
                fields[name] = (new, payload["version"], frozenset({mine}))
    for op_id, name in conflict_of.keys() - walked_conflicts:
        fail("Conflict without clash", f"{op_id} on {name}: not in the change feed")

    # The stored observations are where the feed ends, and every device shows them.
    stored = {(o.inspection_id, o.item_code): o for o in db.session.scalars(
        select(Observation).where(Observation.inspection_id.in_(inspection_ids)))}
    for key, payloads in entries.items():
        last, row = payloads[-1], stored.get(key)
        if row is None or row.version != last["version"] or any(
                _norm(getattr(row, n)) != _norm(last[n]) for n in Observation.FIELDS):
            fail("state differs from feed", str(key))
    for device in run.devices:
        for key, local in device.local.items():
            row = stored.get(key)
            for name in Observation.FIELDS:
                server_value = getattr(row, name) if row is not None else None
                if _norm(local.values.get(name)) != _norm(server_value):
                    fail("device disagrees", f"{device.device_id} shows {key} {name}="
                                             f"{local.values.get(name)!r}, server {server_value!r}")

    # Photos: each one taken is stored once, byte for byte.
    taken = {job.client_uuid: job for device in run.devices for job in device.photos}
    photos = db.session.scalars(select(Photo).where(Photo.inspection_id.in_(inspection_ids))).all()
    store = get_storage()
    stored_photos = Counter(str(p.client_uuid) for p in photos)
    for photo in photos:
        job = taken.get(str(photo.client_uuid))
        if job is None:
            fail("photo never taken", str(photo.id))
        elif photo.sha256 != job.sha256 or store.path_for(photo.sha256).read_bytes() != job.data:
            fail("photo bytes differ", str(photo.id))
    for client_uuid in taken:
        if stored_photos[client_uuid] == 0:
            fail("photo missing", client_uuid)
        elif stored_photos[client_uuid] > 1:
            fail("photo stored twice", f"{client_uuid} × {stored_photos[client_uuid]}")

    answers = Counter()
    for device in run.devices:
        answers.update(device.statuses)
    kinds = Counter(kind for kind, _ in failures)
    return {
        "seed": run.config.seed,
        "devices": len(run.devices),
        "inspections": len(inspection_ids),
        "rounds": run.config.rounds,
        "ops made": len(ops),
        "requests": run.network.requests,
        "faults": dict(sorted({**run.network.faults, "server restarts": run.restarts,
                               "server crashes": run.crashes}.items())),
        "ops recorded": dict(sorted(Counter(row.status for row in recorded.values()).items())),
        "answers received": dict(sorted(answers.items())),
        "conflicts": len(conflicts),
        "superseded fields": sum(len(p.get("superseded", []))
                                 for ps in entries.values() for p in ps),
        "held fields": sum(len(p.get("held", [])) for ps in entries.values() for p in ps),
        "explanations taken back": sum(len(p.get("reverted") or {}) for ps in entries.values()
                                       for p in ps),
        "photos taken": len(taken),
        "photos stored": len(photos),
        "lost": sum(kinds[k] for k in LOSSES),
        "duplicated": sum(kinds[k] for k in DUPLICATES),
        "seconds": round(run.seconds, 1),
        "failures": [f"{kind}: {detail}" for kind, detail in failures],
    }


def _norm(value):
    """Compare values as stored: numbers as floats, text as given."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    return float(value)


# ---------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=Config.seed)
    parser.add_argument("--devices", type=int, default=Config.devices)
    parser.add_argument("--inspections", type=int, default=Config.inspections)
    parser.add_argument("--rounds", type=int, default=Config.rounds)
    parser.add_argument("--parallel", type=int, default=Config.parallel,
                        help="devices syncing at the same moment (1: fully reproducible)")
    parser.add_argument("--database-url", help="an empty database (default: a new SQLite file)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    config = Config(seed=args.seed, devices=args.devices, inspections=args.inspections,
                    rounds=args.rounds, parallel=args.parallel)
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade

    from inspection import create_app
    from inspection.extensions import db

    with tempfile.TemporaryDirectory(prefix="chaos-") as folder:
        instance, media = Path(folder), Path(folder) / "media"
        url = args.database_url or f"sqlite:///{instance / 'chaos.db'}"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET,
                          "MEDIA_ROOT": str(media),
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}, str(instance))
        with app.app_context():
            upgrade()
            prepare(config)
            db.engine.dispose()
        run = simulate(config, url, instance, media)
        with app.app_context():
            figures = verify(run)
            db.engine.dispose()
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        for name, value in figures.items():
            if name != "failures":
                print(f"{name:22} {value}")
        print(f"{'failures':22} {len(figures['failures'])}")
        for failure in figures["failures"][:20]:
            print("  " + failure)
    return 1 if figures["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
