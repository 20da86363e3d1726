"""A generated province for tests, screenshots and benchmarks (not for production data).

The 2025 structure: one province whose districts and communes of the 3-level model existed until
30/6/2025, and ``communes`` communes of the 2-level model from 1/7/2025, each formed by merging
one to three of the old communes (about half keep the code of one of them, as xã Vinh Quý did).
Inspections: every old district and commune in each year of ``old_years`` (3-level checklists),
every new commune in each year of ``new_years`` (2-level checklist). Results are pseudo-random
but deterministic (``random.Random(seed)``) and consistent with the checklist's error rules;
each unit has a quality that drifts a little from year to year, so rankings change.

Units, checklists, accounts, plans and trips go through the real services; observations,
states and recommendations are bulk-inserted for speed, then the score snapshots are built with
``refresh_scores``. What was generated is returned (``Province``) so that tests can recompute
figures independently.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select, update

from ..checklists import DEFAULT_TEMPLATES
from ..extensions import db
from ..models import AdminUnit, Inspection, InspectionState, Observation, Recommendation, Role, User
from ..models.base import utcnow
from .accounts import create_user
from .checklists import import_checklist
from .planning import create_plan, create_trip
from .score_snapshots import refresh_scores
from .units import import_units

SYLLABLES = ["An", "Bình", "Cường", "Đông", "Hòa", "Hưng", "Lạc", "Lợi", "Minh", "Phong", "Phú",
             "Quang",
             "Sơn", "Tân", "Thái", "Thịnh", "Thuận", "Trung", "Vinh", "Xuân", "Yên", "Hải", "Long",
             "Mỹ",
             "Nghĩa", "Phước", "Thạnh", "Tiến", "Đức", "Kim"]
OLD_VALID_FROM = date(2020, 1, 1)
OLD_VALID_TO = date(2025, 6, 30)
NEW_VALID_FROM = date(2025, 7, 1)
PASSWORD = "demo1234"


@dataclass
class Province:
    """What was generated: codes, merges, inspections with their raw observations."""

    code: str
    units: dict[str, dict] = field(default_factory=dict)  # key "code@valid_from" -> unit facts
    merges: dict[int, list[int]] = field(default_factory=dict)  # new unit id -> old unit ids
    # id, unit_id, scheduled_on, state, observations
    inspections: list[dict] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)


def _names(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    names = []
    while len(names) < count:
        name = f"{rng.choice(SYLLABLES)} {rng.choice(SYLLABLES)}"
        if name.split()[0] != name.split()[1] and name not in taken:
            taken.add(name)
            names.append(name)
    return names


def _ensure_checklists() -> None:
    for path in DEFAULT_TEMPLATES:
        import_checklist(path.read_bytes(), publish=True)


def _user(username: str, full_name: str, role: Role, position: str = "") -> User:
    return db.session.scalar(select(User).where(User.username == username)) or create_user(
        username, PASSWORD, full_name, role, position, None, check_strength=False)


def build_province(seed: int = 2025, communes: int = 60, districts: int = 4,
                   province_code: str = "99",
                   old_years: tuple[int, ...] = (2023, 2024), new_years: tuple[int, ...] = (2025,),
                   recommendations: bool = True, leader: User | None = None) -> Province:
    """Generate the province (see module doc); flushes, never commits."""
    rng = random.Random(seed)
    _ensure_checklists()
    result = Province(code=province_code)
    taken: set[str] = set()

    # Units: old districts and communes (until 30/6/2025), new communes (from 1/7/2025).
    groups = [rng.choice((1, 2, 2, 3)) for _ in range(communes)]
    old_count = sum(groups)
    district_names = _names(rng, districts, taken)
    old_names = _names(rng, old_count, taken)
    new_names = _names(rng, communes, taken)
    lines = ["code,name,kind,level,parent_code,valid_from,valid_to,merged_from",
             f"{province_code},Thử Nghiệm,Tỉnh,province,,{OLD_VALID_FROM},,"]
    district_codes = [f"{province_code}{d}" for d in range(1, districts + 1)]
    for code, name in zip(district_codes, district_names, strict=True):
        lines.append(f"{code},{name},Huyện,district,{province_code},{OLD_VALID_FROM},{OLD_VALID_TO},")
    old_codes = [f"{province_code}{i:03d}" for i in range(1, old_count + 1)]
    for index, (code, name) in enumerate(zip(old_codes, old_names, strict=True)):
        parent = district_codes[index % districts]
        lines.append(f"{code},{name},Xã,commune,{parent},{OLD_VALID_FROM},{OLD_VALID_TO},")
    position = 0
    new_codes = []
    for index, (size, name) in enumerate(zip(groups, new_names, strict=True)):
        sources = old_codes[position:position + size]
        position += size
        keeps = rng.random() < 0.5
        code = sources[0] if keeps else f"{province_code}{500 + index:03d}"
        new_codes.append(code)
        merged = " ".join(sources)
        lines.append(f"{code},{name},Xã,commune,{province_code},{NEW_VALID_FROM},,{merged}")
    report = import_units(("\n".join(lines) + "\n").encode("utf-8"))
    if report.rejected:
        raise RuntimeError(f"synthetic units rejected: {report.rejected}")
    units = db.session.scalars(select(AdminUnit)
                               .where(AdminUnit.code.startswith(province_code))).all()
    by_key = {(u.code, u.valid_from): u for u in units}
    for unit in units:
        result.units[f"{unit.code}@{unit.valid_from}"] = {
            "id": unit.id, "code": unit.code, "name": unit.name, "kind": unit.kind,
            "level": unit.level.value,
            "valid_from": unit.valid_from}
        if unit.merged_from:
            result.merges[unit.id] = sorted(u.id for u in unit.merged_from)

    # People and plans.
    admin = _user("tn-admin", "Vũ Thị Thanh", Role.admin, "Chuyên viên Sở Nội vụ")
    leader = leader or _user("tn-leader", "Đinh Công Minh", Role.leader, "Phó Giám đốc Sở Nội vụ")
    members = [_user(f"tn-inspector{i}", name, Role.inspector, "Chuyên viên")
               for i, name in enumerate(("Lý Thị Hoa", "Tạ Văn Khánh"), start=1)]
    result.users = {"admin": admin.id, "leader": leader.id,
                    **{f"inspector{i}": m.id for i, m in enumerate(members, 1)}}

    quality: dict[str, float] = {}

    def quality_of(key: str) -> float:
        quality.setdefault(key, rng.uniform(0.55, 0.97))
        quality[key] = min(0.995, max(0.4, quality[key] + rng.uniform(-0.06, 0.08)))
        return quality[key]

    inspections: list[Inspection] = []
    for year in (*old_years, *new_years):
        plan = create_plan(f"{100 + year % 100}/KH-UBND-{province_code}-{year}",
                           f"Kế hoạch kiểm tra công tác cải cách hành chính năm {year}",
                           "UBND tỉnh Thử Nghiệm",
                           date(year, 1, 15), year, by_key[(province_code, OLD_VALID_FROM)],
                           by=admin)
        if year in old_years:
            batches = []
            for d, code in enumerate(district_codes):
                district = by_key[(code, OLD_VALID_FROM)]
                communes_here = [by_key[(c, OLD_VALID_FROM)] for i,
                                 c in enumerate(old_codes) if i % districts == d]
                batches.append((f"Kiểm tra CCHC năm {year} tại huyện {district.name}",
                                [district, *communes_here]))
        else:
            new_units = [by_key[(c, NEW_VALID_FROM)] for c in new_codes]
            batches = [(f"Kiểm tra CCHC năm {year}, đợt {n + 1}", new_units[n * 15:(n + 1) * 15])
                       for n in range((len(new_units) + 14) // 15)]
        for number, (name, batch_units) in enumerate(batches):
            start = date(year, 9, 8) + timedelta(days=7 * number)
            trip = create_trip(plan, name, start, start + timedelta(days=4), leader, members,
                               batch_units, place="Thử Nghiệm", by=admin)
            inspections.extend(trip.inspections)
    db.session.flush()

    now = utcnow()
    rows = []
    for inspection in inspections:
        document = inspection.checklist_version.document
        unit = inspection.unit
        # The new commune continues its first source's quality; old units have their own.
        key = unit.merged_from[0].code if unit.merged_from else unit.code
        q = quality_of(key)
        observations = _observations(rng, document, q)
        roll = rng.random()
        if inspection.scheduled_on.year in old_years or roll < 0.85:
            state = InspectionState.approved
        else:
            state = InspectionState.submitted if roll < 0.93 else InspectionState.in_progress
        result.inspections.append({
            "id": inspection.id, "unit_id": inspection.unit_id, "unit_code": unit.code,
            "unit_name": unit.name, "level": document["unit_level"], "era": document["era"],
            "scheduled_on": inspection.scheduled_on, "state": state.value,
            "observations": observations,
            "template": document["code"],
        })
        for code, fields in observations.items():
            rows.append({"inspection_id": inspection.id, "item_code": code,
                         "result": fields.get("result"),
                         "points": fields.get("points"), "value": fields.get("value"),
                         "text": fields.get("text"),
                         "note": fields.get("note"), "version": 1,
                         "field_versions": {name: 1 for name in fields},
                         "updated_by_id": members[0].id,
                         "updated_at": now})
    for start in range(0, len(rows), 5000):
        db.session.execute(Observation.__table__.insert(), rows[start:start + 5000])
    for state in (InspectionState.approved, InspectionState.submitted, InspectionState.in_progress):
        ids = [i["id"] for i in result.inspections if i["state"] == state.value]
        for start in range(0, len(ids), 500):
            db.session.execute(update(Inspection).where(Inspection.id.in_(ids[start:start + 500]))
                               .values(state=state, state_changed_at=now),
                               execution_options={"synchronize_session": False})
    db.session.flush()
    db.session.expire_all()
    if recommendations:
        _recommendations(rng, result, inspections)
    refresh_scores([i["id"] for i in result.inspections])
    return result


def _observations(rng: random.Random, document: dict, q: float) -> dict[str, dict]:
    """Results for every item of a checklist for a unit of quality q (0..1)."""
    found: dict[str, dict] = {}
    counts: dict[str, int] = {}

    def share(low: float = 0.0) -> float:
        return min(1.0, max(low, rng.gauss(q, 0.06)))

    # Procedures and dossiers, consistent with the checklist's rules.
    counts["TTHC.01"] = rng.randint(120, 320)
    counts["TTHC.02"] = round(counts["TTHC.01"] * share())
    counts["TTHC.03"] = round(counts["TTHC.01"] * share())
    counts["TTHC.06"] = counts["TTHC.01"]
    received = rng.randint(300, 4000)
    counts["TTHC.20"] = received
    counts["TTHC.21"] = round(received * rng.uniform(0.0, 0.05))
    counts["TTHC.22"] = round(received * min(1.0, max(0.05, rng.gauss(q - 0.35, 0.15))))
    counts["TTHC.23"] = round(received * rng.uniform(0.0, 0.1))
    counts["TTHC.24"] = received - counts["TTHC.22"]
    in_progress = round(received * rng.uniform(0.0, 0.04))
    returned = round(received * rng.uniform(0.0, 0.01))
    resolved = received - in_progress - returned
    on_time = round(resolved * min(1.0, max(0.5, rng.gauss(0.9 + q / 10, 0.03))))
    counts.update({"TTHC.25": resolved, "TTHC.26": on_time, "TTHC.27": resolved - on_time,
                   "TTHC.28": in_progress, "TTHC.29": round(in_progress * rng.uniform(0, 0.5)),
                   "TTHC.30": returned})
    overdue = counts["TTHC.27"] + counts["TTHC.29"]
    counts["TTHC.31"] = overdue if rng.random() < q else round(overdue * share())  # apology slips
    counts["TTHC.10"] = rng.randint(0, 12)
    counts["TTHC.11"] = round(counts["TTHC.10"] * share())
    counts["TTHC.38"] = rng.randint(10, 30)
    counts["TTHC.39"] = round(counts["TTHC.38"] * (1 - share()))
    counts["CQS.03"] = rng.randint(800, 6000)
    counts["CQS.04"] = round(counts["CQS.03"] * min(1.0, max(0.3, rng.gauss(q, 0.05))))
    counts["CV.02"] = rng.randint(18, 80)
    counts["CV.03"] = round(counts["CV.02"] * share())
    counts["CQS.07"] = round(counts["CV.02"] * share())
    counts["TCBM.03"] = counts["CV.02"] + rng.randint(0, 4)
    counts["TCBM.04"] = counts["CV.02"]
    counts["CDDH.02"] = rng.randint(15, 40)
    counts["CDDH.03"] = round(counts["CDDH.02"] * share())
    counts["TCC.01"] = rng.randint(1, 6)
    counts["TCC.02"] = round(counts["TCC.01"] * share())
    counts["TCC.06"] = rng.randint(0, 5)
    counts["TCC.07"] = round(counts["TCC.06"] * share())
    counts["TD.01"] = rng.randint(10, 40)
    counts["TD.02"] = round(counts["TD.01"] * share())

    for section in document["sections"]:
        skip_section = section["optional"] and rng.random() > q  # no survey held
        for item in section["items"]:
            code, kind = item["code"], item["kind"]
            if skip_section and kind != "ratio":
                continue
            if kind == "count":
                found[code] = {"value": float(counts.get(code, rng.randint(0, 60)))}
            elif kind == "yesno":
                roll = rng.random()
                if roll < 0.03:
                    found[code] = {"result": "na"}
                elif roll < q:
                    found[code] = {"result": "pass"}
                elif roll < q + (1 - q) / 3:
                    found[code] = {"result": "partial",
                                   "note": "Thực hiện chưa đầy đủ, cần bổ sung hồ sơ."}
                else:
                    found[code] = {"result": "fail", "note": "Chưa thực hiện theo quy định."}
            elif kind == "score":
                full = item["max_points"]
                found[code] = {"points": round(full * share() * 2) / 2}
            elif kind == "text" and rng.random() < 0.5:
                found[code] = {"text": rng.choice(["Đơn vị đã triển khai nghiêm túc.",
                                                   "Cần tăng cường tuyên truyền, hướng dẫn người "
                                                   "dân.",
                                                   "Bộ phận một cửa bố trí chưa thuận tiện."])}
    return found


def _recommendations(rng: random.Random, province: Province, inspections: list[Inspection]) -> None:
    """Recommendations at approved inspections, and their follow-up at the unit's next visit."""
    facts = {i["id"]: i for i in province.inspections}
    library = {}
    made: dict[int, list[dict]] = {}  # unit id -> recommendations made there, oldest first
    rows = []
    for inspection in sorted(inspections, key=lambda i: (i.scheduled_on, i.id)):
        fact = facts[inspection.id]
        if fact["state"] != "approved":
            continue
        document = inspection.checklist_version.document
        library.setdefault(document["code"], document["recommendations"])
        for position, rec in enumerate(rng.sample(library[document["code"]], rng.randint(0, 3))):
            row = {"inspection_id": inspection.id, "unit_id": inspection.unit_id,
                   "text": rec["text_vi"], "library_code": rec["code"], "item_codes": rec["items"],
                   "due_on": inspection.scheduled_on + timedelta(days=rng.choice((90, 180, 270))),
                   "status": "open", "position": position, "followed_up_in_id": None,
                   "follow_up_result": None, "follow_up_evidence": None, "created_at": utcnow()}
            rows.append(row)
            made.setdefault(inspection.unit_id, []).append(row)
    # Follow-up: the next approved inspection of the unit, or of the commune that absorbed it.
    successor = {source: unit for unit, sources in province.merges.items() for source in sources}
    by_unit: dict[int, list[dict]] = {}
    for fact in province.inspections:
        if fact["state"] == "approved":
            by_unit.setdefault(fact["unit_id"], []).append(fact)
    for unit_id, recs in made.items():
        for row in recs:
            made_on = facts[row["inspection_id"]]["scheduled_on"]
            later = [f for f in by_unit.get(unit_id, []) if f["scheduled_on"] > made_on]
            if not later and unit_id in successor:
                later = [f for f in by_unit.get(successor[unit_id],
                                                []) if f["scheduled_on"] > made_on]
            if not later or rng.random() < 0.2:
                continue  # not followed up yet
            visit = min(later, key=lambda f: f["scheduled_on"])
            outcome = rng.choices(("done", "partly", "not_done"), weights=(6, 3, 2))[0]
            row.update(followed_up_in_id=visit["id"], follow_up_result=outcome,
                       status="verified" if outcome == "done" else "open",
                       follow_up_evidence=None if outcome == "not_done" else
                       "Đã xem văn bản, hồ sơ đơn vị cung cấp tại buổi kiểm tra.")
    for start in range(0, len(rows), 2000):
        db.session.execute(Recommendation.__table__.insert(), rows[start:start + 2000])
    db.session.flush()

