"""Benchmark of POST /api/v1/sync/push against a real server process on loopback (SQLite).

    .venv/bin/python scripts/bench_sync.py [--ops 10000] [--batch 100] [--server gunicorn|werkzeug]

It makes a fresh instance folder with the demo data plus two more trips for inspector1 and
inspector2 (12 inspections, about 1,000 editable checklist items), starts the server in a
subprocess, signs in two devices and pushes the ops in batches, the devices taking turns; after
each push the device pulls the change feed, as the field app does. Both devices work on the same
inspection and move to the next one every 10 batches (--spread all: every batch touches every
inspection); each inspector takes half of the checklist and strays into the other half now and
then. Each op edits an item's main field(s) or its note from the version the device last heard
of, at most one op per field in a batch (as the field app sends them), so most ops are applied,
some merged, and a few conflict (both devices changed the same field between two syncs). Throughput
counts the time
spent in push requests. It also times GET /assignments, pulling the whole feed, and, for
comparison, a raw sqlite3 insert of as many similar rows in transactions of the same size (same
pragmas as the app: WAL, synchronous FULL). Prints a table.
"""
from __future__ import annotations

import argparse
import http.client
import inspect
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_instance(instance: Path) -> None:
    """Schema, demo data and two more trips for inspector1 (run in this process, then closed)."""
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import select

    from inspection import create_app
    from inspection.extensions import db
    from inspection.models import Plan, User
    from inspection.services.demo import seed_demo
    from inspection.services.planning import create_trip
    from inspection.services.units import unit_valid_on

    app = create_app({"SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False}, str(instance))
    with app.app_context():
        upgrade()
        if "with_minutes" in inspect.signature(seed_demo).parameters:
            seed_demo(with_minutes=False)  # no PDF signing needed here
        else:
            seed_demo()
        plan = db.session.scalar(select(Plan))
        users = {u.username: u for u in db.session.scalars(select(User))}
        day = date(2021, 10, 5)
        create_trip(plan, "Đợt 2 (benchmark)", day, day, users["leader"],
                    [users["inspector1"], users["inspector2"]],
                    [unit_valid_on(code, day) for code in ("01534", "01537", "01540", "01543",
                                                           "01546")])
        day = date(2026, 4, 15)
        create_trip(plan, "Đợt 2026 (benchmark)", day, day, users["leader"],
                    [users["inspector1"], users["inspector2"]],
                    [unit_valid_on(code, day) for code in ("01558", "01537", "01561", "01552")])
        db.session.commit()
        db.engine.dispose()


SELF_ASSESSMENT_FILES = 100
SELF_ASSESSMENT_MAX_KB = 400
SELF_ASSESSMENT_MAX_P95_MS = 100


def prepare_self_assessment(instance: Path) -> None:
    """Schema, demo data, and a 2022 visit to Hạ Lang district (cchc-huyen: 105 criteria) by an
    inspector on no other trip, with the district's full self-assessment submitted: a claim for
    every criterion and 100 evidence files (issue 16)."""
    sys.path.insert(0, str(ROOT))
    from flask_migrate import upgrade
    from sqlalchemy import select

    from inspection import create_app
    from inspection.extensions import db
    from inspection.models import Plan, Role, SelfAssessment, SelfAssessmentEvidence, User
    from inspection.services import self_assessment
    from inspection.services.accounts import create_user
    from inspection.services.demo import seed_demo
    from inspection.services.planning import create_trip
    from inspection.services.storage import put_bytes
    from inspection.services.units import unit_valid_on

    app = create_app({"SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False}, str(instance))
    with app.app_context():
        upgrade()
        seed_demo(with_minutes=False)
        plan = db.session.scalar(select(Plan))
        leader = db.session.scalar(select(User).where(User.username == "leader"))
        day = date(2022, 10, 3)
        district = unit_valid_on("048", day)
        inspector = create_user("bench-inspector", "demo1234", "Kiểm tra viên", Role.inspector,
                                check_strength=False)
        rep = create_user("bench-rep", "demo1234", "Đại diện huyện", Role.unitrep, "",
                          district, check_strength=False)
        [inspection] = create_trip(plan, "Kiểm tra 2022 (benchmark)", day, day, leader,
                                   [inspector], [district]).inspections
        assessment = SelfAssessment(inspection=inspection)
        db.session.add(assessment)
        for n in range(SELF_ASSESSMENT_FILES):
            data = b"%PDF-1.4\n% evidence " + str(n).encode() + b"\n%%EOF\n"
            assessment.evidence.append(SelfAssessmentEvidence(
                sha256=put_bytes(data), filename=f"tai-lieu-kiem-chung-{n + 1:03d}.pdf",
                content_type="application/pdf", size=len(data), uploaded_by_id=rep.id))
        db.session.flush()
        files = [e.id for e in assessment.evidence]
        items = inspection.checklist_version.document_items()
        for n, item in enumerate(items):
            fields = {"note": f"Ghi chú của đơn vị về tiêu chí {item['code']}"}
            if item["kind"] == "yesno":
                fields["result"] = "pass"
            elif item["kind"] == "score":
                fields["points"] = item.get("max_points") or 1
            elif item["kind"] == "count":
                fields["value"] = 100 + n
            elif item["kind"] == "text":
                fields["text"] = "Đã ban hành và triển khai"
            self_assessment.save_claim(rep, inspection, item["code"], fields,
                                       files[n::len(items)])
        self_assessment.submit(rep, inspection)
        db.session.commit()
        db.engine.dispose()


def bench_self_assessment(server_kind: str) -> None:
    """GET /assignments of an inspector whose one inspection carries a full self-assessment
    with 100 evidence files: size and p50/p95 against the budget (400 KB, 100 ms)."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-self-assessment-"))
    instance = workdir / "instance"
    prepare_self_assessment(instance)
    port = free_port()
    server = start_server(server_kind, instance, port)
    try:
        wait_for(port, server)
        device = Client(port)
        device.login("bench-inspector")
        device.request("GET", "/api/v1/assignments")  # warm-up
        timings, size, payload = [], 0, None
        for _ in range(50):
            start = time.perf_counter()
            status, payload, size = device.request("GET", "/api/v1/assignments")
            timings.append(time.perf_counter() - start)
            assert status == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    [assignment] = payload["assignments"]
    claims = assignment["self_assessment"]
    p95 = percentile(timings, 0.95) * 1000
    print(f"\n  GET /assignments with a full self-assessment: {len(claims['claims'])} claims, "
          f"{len(claims['evidence'])} evidence files, {size / 1024:,.0f} KiB; "
          f"p50 {statistics.median(timings) * 1000:.1f} ms, p95 {p95:.1f} ms "
          f"(budget {SELF_ASSESSMENT_MAX_KB} KB, {SELF_ASSESSMENT_MAX_P95_MS} ms)\n")
    if size > SELF_ASSESSMENT_MAX_KB * 1000 or p95 > SELF_ASSESSMENT_MAX_P95_MS:
        raise SystemExit("over budget")


class Client:
    """A minimal keep-alive HTTP client with the session cookie and the CSRF token."""

    def __init__(self, port: int):
        self.port = port
        self.conn = None
        self.cookie = ""
        self.csrf = ""

    def request(self, method: str, path: str, body=None) -> tuple[int, dict | None, int]:
        headers = {"Cookie": self.cookie, "X-CSRF-Token": self.csrf, "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response.status, (json.loads(raw) if raw else None), len(raw)

    def login(self, username: str) -> None:
        status, body, _ = self.request("POST", "/api/v1/auth/login",
                                       {"username": username, "password": "demo1234"})
        assert status == 200, body
        self.csrf = body["csrf_token"]


def wait_for(port: int, process, seconds=30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def start_server(kind: str, instance: Path, port: int):
    env = {**os.environ, "INSPECTION_INSTANCE_PATH": str(instance), "SECRET_KEY": "bench",
           "SESSION_COOKIE_SECURE": "0", "PYTHONPATH": str(ROOT)}
    if kind == "gunicorn":
        command = [str(Path(PYTHON).with_name("gunicorn")), "--workers", "1",
                   "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    else:
        command = [PYTHON, "-c", (
            "from werkzeug.serving import make_server; from inspection import create_app; "
            f"make_server('127.0.0.1', {port}, create_app(), threaded=False).serve_forever()")]
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def value_for(item: dict, rng: random.Random, which: int = 0) -> dict:
    """New values for an item: its main field(s) (which=0) or its note (which=1)."""
    if which == 1:
        return {"note": f"Đã xem hồ sơ số {rng.randint(1, 999)}"}
    kind = item["kind"]
    if kind == "count":
        return {"value": rng.randint(0, 5000)}
    if kind in ("yesno", "score"):
        fields = {"result": rng.choice(["pass", "partial", "fail"])}
        if item.get("max_points"):
            fields["points"] = round(rng.uniform(0, item["max_points"]), 1)
        return fields
    if kind == "text":
        return {"text": f"Ghi chú {rng.randint(1, 10**6)} — kiểm tra thực tế"}
    return {"note": f"Đã xem hồ sơ số {rng.randint(1, 999)}"}


def make_items(assignments: dict) -> list[tuple[int, dict]]:
    items = []
    for assignment in assignments["assignments"]:
        inspection = assignment["inspection"]
        if inspection["state"] in ("approved", "signed"):
            continue
        document = assignments["checklists"][str(inspection["checklist_version_id"])]
        for section in document["sections"]:
            for item in section["items"]:
                if item["kind"] != "ratio":  # ratios are derived from counts
                    items.append((inspection["id"], item))
    return items


def raw_sqlite(path: Path, rows: int, batch: int) -> float:
    """Rows per second for a plain sqlite3 insert of observation-like rows, `batch` per commit."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("""CREATE TABLE observations (id INTEGER PRIMARY KEY, inspection_id INTEGER,
        item_code TEXT, result TEXT, points REAL, value REAL, text TEXT, note TEXT,
        version INTEGER, field_versions TEXT, updated_by_id INTEGER, updated_at TEXT,
        UNIQUE (inspection_id, item_code))""")
    payload = [(n // 100, f"TTHC.{n % 100:02d}", "pass", 1.5, float(n), None, "ghi chú", 1,
                json.dumps({"value": {"version": 1, "by": ["3:tab-A"]}}), 3,
                datetime.now(UTC).isoformat()) for n in range(rows)]
    start = time.perf_counter()
    for first in range(0, rows, batch):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO observations (inspection_id, "
                         "item_code, result, points, value,"
                         " text, note, version, field_versions, updated_by_id, updated_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", payload[first:first + batch])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return rows / elapsed


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by a server process and its workers (Linux)."""
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        total += int(fields[11]) + int(fields[12])  # utime, stime (after the state field)
    return total / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn")
    parser.add_argument("--spread", choices=("unit", "all"), default="unit", help=(
        "unit: both devices work on the same inspection, moving to the next one every 10 batches "
        "(a team visiting one unit at a time); all: every batch touches random items of every "
        "inspection (the worst case for the score refresh after each batch)"))
    parser.add_argument("--no-score-refresh", action="store_true", help=(
        "run the server with SYNC_REFRESH_SCORES = False (no score snapshot refresh after each "
        "push), to see what the refresh costs"))
    parser.add_argument("--seed", type=int, default=2021)
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    parser.add_argument("--self-assessment", action="store_true", help=(
        "only time GET /assignments for a 105-criterion inspection with a full self-assessment "
        "and 100 evidence files (budget: under 400 KB, p95 under 100 ms)"))
    args = parser.parse_args()
    if args.self_assessment:
        bench_self_assessment(args.server)
        return

    workdir = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    instance = workdir / "instance"
    prepare_instance(instance)
    if args.no_score_refresh:
        (instance / "config.py").write_text("SYNC_REFRESH_SCORES = False\n")
    port = free_port()
    server = start_server(args.server, instance, port)
    try:
        wait_for(port, server)
        devices = {"tab-A": Client(port), "tab-B": Client(port)}
        devices["tab-A"].login("inspector1")
        devices["tab-B"].login("inspector2")

        # GET /assignments, as a device does after signing in.
        timings, size = [], 0
        devices["tab-A"].request("GET", "/api/v1/assignments")  # warm-up (first-use caches)
        for _ in range(20):
            start = time.perf_counter()
            status, assignments, size = devices["tab-A"].request("GET", "/api/v1/assignments")
            timings.append(time.perf_counter() - start)
            assert status == 200
        inspections = len(assignments["assignments"])
        observations = sum(len(a["observations"]) for a in assignments["assignments"])
        items = make_items(assignments)

        rng = random.Random(args.seed)
        known: dict[str, dict[tuple[int, str], int]] = {name: {} for name in devices}
        for assignment in assignments["assignments"]:
            for obs in assignment["observations"]:
                for name in devices:
                    known[name][(assignment["inspection"]["id"], obs["item_code"])] = obs["version"]
        cursors = {name: max((a["cursor"] for a in assignments["assignments"]), default=0)
                   for name in devices}
        latencies, pull_latencies, statuses = [], [], {}
        names = list(devices)
        sent = 0
        server_cpu = 0.0
        while sent < args.ops:
            name = names[(sent // args.batch) % 2]
            count = min(args.batch, args.ops - sent)
            # Like the field app, at most one op per field in a batch: distinct (item, field).
            if args.spread == "unit":
                units = sorted({inspection_id for inspection_id, _ in items})
                current = units[(sent // args.batch // 10) % len(units)]
                mine = names.index(name)
                pool = [(i, item, which) for n, (i, item) in enumerate(
                    entry for entry in items if entry[0] == current) for which in (0, 1)
                    # each inspector takes half of the checklist, and strays into the other half
                    if n % 2 == mine or rng.random() < 0.1]
            else:
                pool = [(i, item, which) for i, item in items for which in (0, 1)]
            ops = []
            for inspection_id, item, which in rng.sample(pool, min(count, len(pool))):
                key = (inspection_id, item["code"])
                ops.append({"op_id": str(uuid.uuid4()), "type": "observation.set",
                            "inspection_id": inspection_id, "item_code": item["code"],
                            "base_version": known[name].get(key, 0),
                            "fields": value_for(item, rng, which),
                            "at": datetime.now(UTC).isoformat()})
            count = len(ops)
            cpu_before = cpu_seconds(server.pid)
            start = time.perf_counter()
            status, body, _ = devices[name].request("POST", "/api/v1/sync/push",
                                                    {"device_id": name, "ops": ops})
            latencies.append(time.perf_counter() - start)
            server_cpu += cpu_seconds(server.pid) - cpu_before
            assert status == 200, body
            for op, result in zip(ops, body["results"], strict=True):
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1
                if "version" in result:
                    known[name][(op["inspection_id"], op["item_code"])] = result["version"]
            sent += count
            # Then the device pulls what the others did, as the field app does after a push.
            start = time.perf_counter()
            more = True
            while more:
                status, page, _ = devices[name].request(
                    "GET", f"/api/v1/sync/pull?since={cursors[name]}&limit=500")
                for change in page["changes"]:
                    if change["kind"] == "observation":
                        key = (change["inspection_id"], change["data"]["item_code"])
                        known[name][key] = max(known[name].get(key, 0), change["data"]["version"])
                cursors[name], more = page["cursor"], page["more"]
            pull_latencies.append(time.perf_counter() - start)
        push_elapsed = sum(latencies)
        # A retry of the last batch: every op is a duplicate.
        start = time.perf_counter()
        status, body, _ = devices[name].request("POST", "/api/v1/sync/push",
                                                {"device_id": name, "ops": ops})
        retry = time.perf_counter() - start
        assert {r["status"] for r in body["results"]} == {"duplicate"}
        # Pull the whole feed, 500 at a time.
        start, cursor, pulled, pages = time.perf_counter(), 0, 0, 0
        while True:
            status, page, _ = devices["tab-B"].request("GET",
                                                       f"/api/v1/sync/pull?since={cursor}&limit=500")
            pulled += len(page["changes"])
            cursor, pages = page["cursor"], pages + 1
            if not page["more"]:
                break
        pull_elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=10)

    raw_rate = raw_sqlite(workdir / "raw.db", args.ops, args.batch)
    rate = args.ops / push_elapsed
    batches_ms = [t * 1000 for t in latencies]
    refresh = "off" if args.no_score_refresh else "on"
    spent = percentile(pull_latencies, 0.95) * 1000
    rows = [
        ("server",
         f"{args.server}, 1 worker, SQLite (WAL), score refresh after each push {refresh}"),
        ("ops pushed", (f"{args.ops:,} in {len(latencies)} batches of up to {args.batch} "
                        f"(2 devices taking turns; spread: {args.spread})")),
        ("statuses", ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items()))),
        ("push throughput", f"{rate:,.0f} ops/s ({push_elapsed:.2f} s in push requests)"),
        ("batch latency p50", f"{statistics.median(batches_ms):.1f} ms"),
        ("batch latency p95", f"{percentile(batches_ms, 0.95):.1f} ms"),
        ("batch latency max", f"{max(batches_ms):.1f} ms"),
        ("server CPU per batch", (f"{server_cpu * 1000 / len(latencies):.1f} ms (user + system; "
                                  f"load average {os.getloadavg()[0]:.1f} "
                                  f"on {os.cpu_count()} CPUs)")),
        ("pull after each push p50 / p95",
         f"{statistics.median(pull_latencies) * 1000:.1f} / {spent:.1f} ms"),
        ("retry of a batch (all duplicate)", f"{retry * 1000:.1f} ms"),
        ("raw sqlite3 insert, same batches", f"{raw_rate:,.0f} rows/s"),
        ("push / raw insert", f"{rate / raw_rate:.2f}"),
        ("GET /assignments p50 / p95",
         (f"{statistics.median(timings) * 1000:.1f} / {percentile(timings, 0.95) * 1000:.1f} ms "
          f"({inspections} inspections, {len(items):,} items, {observations:,} observations, "
          f"{size / 1024:,.0f} KiB)")),
        ("pull of the whole feed",
         f"{pulled:,} changes in {pages} pages, {pull_elapsed * 1000:.0f} ms"),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")
    print()
    if args.keep:
        print(f"instance kept in {instance}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
