"""Benchmark of the province reports at national scale (issue 6); not part of the test suite.

Builds 3,321 communes of the 2025 structure (each merged from three older communes) in 34
provinces, three years of approved inspections with 105 results each (about a million
observations) and two recommendations per inspection, all with bulk inserts; computes the score
snapshots with the real ``refresh_scores``; then times the ranking page and the follow-up list
(and their JSON) through the app, 30 requests each, and the full SQLite export.

    .venv/bin/python scripts/bench_reports.py                 # SQLite, and PostgreSQL if found
    .venv/bin/python scripts/bench_reports.py --communes 300  # a quick run
    DATABASE_URL=postgresql+psycopg://… .venv/bin/python scripts/bench_reports.py --postgres-only

PostgreSQL: DATABASE_URL if set, else a throwaway cluster (as scripts/test.sh starts one) when
PostgreSQL's initdb is installed.
"""
from __future__ import annotations

import argparse
import glob
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade
from sqlalchemy import select, text

from inspection import create_app
from inspection.extensions import db
from inspection.models import (
    AdminUnit,
    ChecklistTemplate,
    ChecklistVersion,
    Inspection,
    Observation,
    Plan,
    Recommendation,
    Role,
    Trip,
    TripMember,
    UnitLevel,
    unit_merges,
)

PROVINCES = 34
YEARS = (2025, 2026, 2027)
PASSWORD = "bench-password"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def build(communes: int, seed: int) -> dict:
    """Fill the (empty, migrated) database of the current app; returns what was built."""
    from inspection.checklists import DEFAULT_TEMPLATES
    from inspection.services.accounts import create_user
    from inspection.services.checklists import import_checklist
    from inspection.services.score_snapshots import refresh_scores
    from inspection.services.synthetic import _observations

    rng = random.Random(seed)
    started = time.monotonic()
    for path in DEFAULT_TEMPLATES:
        import_checklist(path.read_bytes(), publish=True)
    create_user("bench-admin", PASSWORD, "Quản trị", Role.admin, check_strength=False)
    leader = create_user("bench-leader", PASSWORD, "Trưởng đoàn", Role.leader, check_strength=False)
    member = create_user("bench-inspector", PASSWORD, "Thành viên", Role.inspector,
                         check_strength=False)
    version = db.session.scalar(select(ChecklistVersion).join(ChecklistTemplate).where(
        ChecklistTemplate.code == "cchc-xa-2cap"))
    document = version.document
    db.session.flush()

    # Units: provinces, old communes (until 30/6/2025), new communes merged from three of them.
    units, merges = [], []
    next_id = 1
    province_ids = []
    for p in range(PROVINCES):
        units.append({"id": next_id, "code": f"{p + 1:02d}", "name": f"Tỉnh {p + 1:02d}",
                      "kind": "Tỉnh",
                      "level": UnitLevel.province, "parent_id": None,
                      "valid_from": date(2020, 1, 1), "valid_to": None})
        province_ids.append(next_id)
        next_id += 1
    new_ids = []
    for c in range(communes):
        province = province_ids[c % PROVINCES]
        sources = []
        for k in range(3):
            units.append({"id": next_id, "code": f"{(c * 3 + k) % 100000:05d}",
                          "name": f"Cũ {c}-{k}", "kind": "Xã",
                          "level": UnitLevel.commune, "parent_id": province,
                          "valid_from": date(2020, 1, 1),
                          "valid_to": date(2025, 6, 30)})
            sources.append(next_id)
            next_id += 1
        units.append({"id": next_id, "code": f"{(c * 3) % 100000:05d}", "name": f"Xã mới {c:04d}",
                      "kind": "Xã",
                      "level": UnitLevel.commune, "parent_id": province,
                      "valid_from": date(2025, 7, 1), "valid_to": None})
        merges += [{"unit_id": next_id, "source_id": s} for s in sources]
        new_ids.append(next_id)
        next_id += 1
    db.session.execute(AdminUnit.__table__.insert(), units)
    db.session.execute(unit_merges.insert(), merges)
    log(f"units: {len(units)} ({communes} communes), merges: {len(merges)}")

    plans, trips, members, inspections = [], [], [], []
    trip_id = inspection_id = 0
    for y, year in enumerate(YEARS, start=1):
        plans.append({"id": y, "number": f"BENCH-{year}", "title": f"Kế hoạch {year}",
                      "issuer": "UBND",
                      "issued_on": date(year, 1, 10), "year": year, "province_id": province_ids[0]})
        for start in range(0, communes, 15):
            trip_id += 1
            day = date(year, 9, 1) + timedelta(days=(start // 15) % 90)
            trips.append({"id": trip_id, "plan_id": y, "name": f"Đợt {trip_id}", "starts_on": day,
                          "ends_on": day, "decision": "", "place": ""})
            members += [{"trip_id": trip_id, "user_id": leader.id, "role": "leader"},
                        {"trip_id": trip_id, "user_id": member.id, "role": "member"}]
            for unit_id in new_ids[start:start + 15]:
                inspection_id += 1
                inspections.append({"id": inspection_id, "trip_id": trip_id, "unit_id": unit_id,
                                    "checklist_version_id": version.id, "state": "approved",
                                    "scheduled_on": day,
                                    "revision": 1, "unit_comments": ""})
    db.session.execute(Plan.__table__.insert(), plans)
    db.session.execute(Trip.__table__.insert(), trips)
    db.session.execute(TripMember.__table__.insert(), members)
    for start in range(0, len(inspections), 5000):
        db.session.execute(Inspection.__table__.insert(), inspections[start:start + 5000])
    log(f"plans {len(plans)}, trips {len(trips)}, inspections {len(inspections)}")

    from inspection.models.base import utcnow

    now = utcnow()
    quality = {unit_id: rng.uniform(0.55, 0.97) for unit_id in new_ids}
    batch, observations, recommendations, rec_id = [], 0, [], 0
    library = document["recommendations"]
    item_codes = [item["code"] for section in document["sections"] for item in section["items"]]
    previous_recs: dict[int, list[dict]] = {}
    for row in inspections:
        q = min(0.99, max(0.4, quality[row["unit_id"]] + rng.uniform(-0.05, 0.05)))
        found = _observations(rng, document, q)
        for code in item_codes:  # one observation per item: 105 per inspection
            found.setdefault(code, {"note": "Không có ý kiến."})
        for code, fields in found.items():
            batch.append({"inspection_id": row["id"], "item_code": code,
                          "result": fields.get("result"),
                          "points": fields.get("points"), "value": fields.get("value"),
                          "text": fields.get("text"),
                          "note": fields.get("note"), "version": 1, "field_versions": {},
                          "updated_by_id": member.id,
                          "updated_at": now})
        if len(batch) >= 20000:
            db.session.execute(Observation.__table__.insert(), batch)
            observations += len(batch)
            batch = []
        for old in previous_recs.pop(row["unit_id"], []):
            outcome = rng.choice(("done", "partly", "not_done", None))
            if outcome:
                old.update(followed_up_in_id=row["id"], follow_up_result=outcome,
                           status="verified" if outcome == "done" else "open")
        made = []
        for position, rec in enumerate(rng.sample(library, 2)):
            rec_id += 1
            made.append({"id": rec_id, "inspection_id": row["id"], "unit_id": row["unit_id"],
                         "text": rec["text_vi"],
                         "library_code": rec["code"], "item_codes": rec["items"],
                         "due_on": row["scheduled_on"]
                         + timedelta(days=rng.choice((90, 180, 365))), "status": "open",
                         "position": position, "followed_up_in_id": None, "follow_up_result": None,
                         "follow_up_evidence": None})
        recommendations += made
        previous_recs[row["unit_id"]] = made
    if batch:
        db.session.execute(Observation.__table__.insert(), batch)
        observations += len(batch)
    for start in range(0, len(recommendations), 10000):
        db.session.execute(Recommendation.__table__.insert(), recommendations[start:start + 10000])
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # ids were given explicitly: move the sequences on
        with db.engine.begin() as conn:
            for table in ("admin_units", "plans", "trips", "inspections", "recommendations"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT "
                                  f"max(id) FROM {table}))"))
    inserted = time.monotonic() - started
    log(f"observations {observations}, recommendations {len(recommendations)}: inserted in "
        f"{inserted:.0f} s")

    scored = time.monotonic()
    ids = [row["id"] for row in inspections]
    for start in range(0, len(ids), 2000):
        refresh_scores(ids[start:start + 2000])
        db.session.commit()
        db.session.expunge_all()
    score_seconds = time.monotonic() - scored
    log(f"score snapshots: {len(ids)} in {score_seconds:.0f} s")
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return {"inspections": len(inspections), "observations": observations,
            "recommendations": len(recommendations),
            "insert_s": inserted, "scores_s": score_seconds}


def measure(app, requests: int) -> list[tuple[str, float, float, int]]:
    """p50 and p95 (ms) of each report URL, through the test client signed in as admin."""
    client = app.test_client()
    response = client.post("/api/v1/auth/login",
                           json={"username": "bench-admin", "password": PASSWORD})
    assert response.status_code == 200, response.get_json()
    year = YEARS[-1]
    urls = [
        ("ranking page", f"/overview/ranking?year={year}&level=commune&era=2cap"),
        ("ranking JSON", f"/api/v1/reports/ranking?year={year}&level=commune&era=2cap"),
        ("follow-up list page", "/overview/recommendations"),
        ("follow-up list, overdue", "/overview/recommendations?overdue=true"),
        ("follow-up JSON, overdue", "/api/v1/reports/recommendations?overdue=true"),
        ("overview page", "/overview/"),
    ]
    results = []
    for label, url in urls:
        for _ in range(3):  # warm-up
            assert client.get(url).status_code == 200, url
        times, size = [], 0
        for _ in range(requests):
            t = time.perf_counter()
            response = client.get(url)
            size = len(response.get_data())
            times.append((time.perf_counter() - t) * 1000)
            assert response.status_code == 200
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        results.append((label, statistics.median(times), p95, size))
        log(f"{label}: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} "
            f"ms ({size / 1024:.0f} KiB)")
    return results


def run(backend: str, url: str, args) -> dict:
    instance = tempfile.mkdtemp(prefix=f"bench-{backend}-")
    config = {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "SESSION_COOKIE_SECURE": False,
              "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024}
    app = create_app(config, instance_path=instance)
    with app.app_context():
        if backend == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        log(f"{backend}: building {args.communes} communes × {len(YEARS)} years")
        built = build(args.communes, args.seed)
        if backend == "sqlite":
            with db.engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    timings = measure(app, args.requests)
    export = None
    if backend == "sqlite" and not args.skip_export:
        with app.app_context():
            from inspection.services.export import write_sqlite

            out = Path(instance) / "analysis.db"
            t = time.monotonic()
            counts = write_sqlite(out)
            export = {"seconds": time.monotonic() - t, "bytes": out.stat().st_size,
                      "source_bytes": Path(url.removeprefix("sqlite:///")).stat().st_size,
                      "counts": counts}
            log(f"SQLite export: {export['seconds']:.0f} s, {export['bytes'] / 1e6:.0f} MB")
    with app.app_context():
        db.engine.dispose()
    if not args.keep:
        shutil.rmtree(instance, ignore_errors=True)
    return {"backend": backend, "built": built, "timings": timings, "export": export}


def start_postgres() -> tuple[str, callable] | None:
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins or not os.path.exists(f"{bins[-1]}/initdb"):
        return None
    bin_dir = bins[-1]
    folder = tempfile.mkdtemp(prefix="bench-pg-")
    as_user = []
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    os.chmod(folder, 0o700)
    subprocess.run([*as_user, f"{bin_dir}/initdb", "-D", f"{folder}/data", "-A", "trust", "-U",
                    "postgres",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", f"{folder}/data", "-l",
                    f"{folder}/server.log", "-w",
                    "-o",
                    (f"-c listen_addresses='' -k {folder} -p 54331 -c fsync=off -c "
                     f"synchronous_commit=off "
                          "-c full_page_writes=off -c shared_buffers=256MB"), "start"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([*as_user, f"{bin_dir}/createdb", "-h", folder, "-p", "54331", "-U", "postgres",
                    "bench"], check=True)

    def stop():
        subprocess.run([*as_user, f"{bin_dir}/pg_ctl", "-D", f"{folder}/data", "-m", "fast", "-w",
                        "stop"],
                       stdout=subprocess.DEVNULL, check=False)
        shutil.rmtree(folder, ignore_errors=True)

    return f"postgresql+psycopg://postgres@/bench?host={folder}&port=54331", stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--communes", type=int, default=3321)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--skip-export", action="store_true")
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--postgres-only", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temporary instance folders")
    args = parser.parse_args()

    results = []
    if not args.postgres_only:
        folder = tempfile.mkdtemp(prefix="bench-sqlite-db-")
        results.append(run("sqlite", f"sqlite:///{folder}/bench.db", args))
        if args.keep:
            log(f"kept {folder}/bench.db")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    if not args.sqlite_only:
        url, stop = os.environ.get("DATABASE_URL"), None
        if not url:
            started = start_postgres()
            if started:
                url, stop = started
        if url:
            try:
                results.append(run("postgresql", url, args))
            finally:
                if stop:
                    stop()
        else:
            log("PostgreSQL not available: skipped")

    print()
    first = results[0]["built"]
    print(f"Data: {first['inspections']:,} inspections, {first['observations']:,} observations, "
          f"{first['recommendations']:,} recommendations ({args.communes:,} communes × "
          f"{len(YEARS)} years)")
    print(f"{'backend':<11} {'request':<26} {'p50 ms':>8} {'p95 ms':>8} {'KiB':>7}")
    for result in results:
        for label, p50, p95, size in result["timings"]:
            print(f"{result['backend']:<11} {label:<26} {p50:>8.0f} {p95:>8.0f} "
                  f"{size / 1024:>7.0f}")
    for result in results:
        built = result["built"]
        print(f"{result['backend']}: bulk insert {built['insert_s']:.0f} s, score snapshots "
              f"{built['scores_s']:.0f} s")
        if result["export"]:
            export = result["export"]
            print(f"{result['backend']}: full SQLite export {export['seconds']:.0f} s, "
                  f"{export['bytes'] / 1e6:.0f} MB (app database "
                  f"{export['source_bytes'] / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
