"""Demo data (DESIGN §6): Cao Bằng, Hạ Lang and its communes, plan 3199/KH-UBND, the trip of
1/10/2021 with the published figures, and one account per role (password demo1234)."""
from __future__ import annotations

from datetime import date, datetime
from importlib import resources

from sqlalchemy import select

from ..checklists import DEFAULT_TEMPLATES
from ..extensions import db
from ..models import Plan, Role, User
from .accounts import create_user
from .checklists import import_checklist
from .demo_self_assessment import seed_explanation, seed_self_assessment
from .observations import record_observation
from .planning import create_plan, create_trip
from .score_snapshots import refresh_scores
from .units import import_units, unit_valid_on
from .workflow import transition_inspection

DEMO_PASSWORD = "demo1234"
PLAN_NUMBER = "3199/KH-UBND"
TRIP_DAY = date(2021, 10, 1)
SERVE_URL = "http://127.0.0.1:5000"  # where scripts/serve.sh serves the demo
DEMO_APPROVAL_REASON = ("Xã chưa cung cấp số liệu hồ sơ TTHC và văn bản; Đoàn thống nhất duyệt "
                        "kết quả các tiêu chí đã đánh giá, số liệu còn thiếu đơn vị báo cáo bổ "
                        "sung.")

# (username, full name, position, role); names are fictitious, the facts are the article's.
ACCOUNTS = [
    ("admin", "Phạm Thu Hà", "Chuyên viên Phòng CCHC, Sở Nội vụ", Role.admin),
    ("leader", "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ", Role.leader),
    ("inspector1", "Trần Thị Bình", "Chuyên viên Sở Nội vụ", Role.inspector),
    ("inspector2", "Lê Minh Cường", "Chuyên viên Văn phòng UBND tỉnh", Role.inspector),
    ("inspector3", "Hoàng Thị Dung", "Chuyên viên Sở Tư pháp", Role.inspector),
    ("unitrep", "Nông Văn Én", "Chủ tịch UBND xã Cô Ngân", Role.unitrep),
    ("unitrep2", "Hà Văn Quý", "Chủ tịch UBND xã Vinh Quý", Role.unitrep),
]
# The unit each representative speaks for (GSO code).
REPRESENTS = {"unitrep": "01567", "unitrep2": "01561"}

# Published figures of Hạ Lang district, 1/10/2021 (Cao Bằng newspaper; reference seeds/002).
HA_LANG_FIGURES = {
    "TTHC.01": 221, "TTHC.02": 221, "TTHC.03": 221,
    "TTHC.20": 1081, "TTHC.22": 434, "TTHC.23": 94, "TTHC.25": 1068, "TTHC.26": 924, "TTHC.28": 13,
    "CQS.03": 3601, "CQS.04": 3432, "TCBM.05": 6,
}
HA_LANG_RESULTS = {"CQS.01": "pass"}
HA_LANG_TEXTS = {"CQS.02": "TCVN ISO 9001:2015"}
# The team's decision: number and date are illustrative (the article does not give them).
DECISION_NUMBER, DECISION_DATE = "1520/QĐ-UBND", date(2021, 9, 24)
CO_NGAN_OFFICIALS = [{"name": "Nông Văn Én", "position": "Chủ tịch UBND xã Cô Ngân"},
                     {"name": "Lương Thị Hoa", "position": "Công chức Văn phòng - Thống kê xã"}]
CO_NGAN_RECIPIENTS = "Như trên\nUBND huyện Hạ Lang\nLưu: VT, Đoàn kiểm tra"


# The demo of conditions and repeat groups (issue 17): the provincial extension of the 2-level
# commune checklist (a copy of docs/examples/cchc-xa-2cap-caobang.json) on a 2025 visit of the
# merged xã Hạ Lang, with dossiers received (its sampled-dossier section applies), none by post
# (the postal-register criterion does not) and three of the 5–10 sampled dossiers entered.
SAMPLE_PLAN = ("125/KH-UBND", "Kế hoạch kiểm tra công tác cải cách hành chính năm 2025",
               date(2025, 1, 15), 2025)
SAMPLE_DAY = date(2025, 8, 20)
SAMPLE_FIGURES = {"TTHC.20": 40, "TTHC.23": 0}
SAMPLE_DOSSIERS = [  # (number, received, due, returned, apology slip)
    ("000.00.12.H10-250801-0001", "2025-08-01", "2025-08-06", "2025-08-05", False),
    ("000.00.12.H10-250804-0007", "2025-08-04", "2025-08-11", "2025-08-11", False),
    ("000.00.12.H10-250805-0012", "2025-08-05", "2025-08-12", "2025-08-14", True),
]


def seed_demo(with_minutes: bool = True, with_samples: bool = False) -> list[str]:
    """Load the demo data if it is not there yet; returns what was done, line by line.

    With minutes (the default), in demo mode, xã Cô Ngân's minutes are built and signed by the
    leader and the unit's representative with the demo CA, so every stage shows (DESIGN §6);
    outside demo mode nobody would trust that CA, so they are not. Tests that do not look at
    minutes skip that second or two.
    """
    if db.session.scalar(select(Plan.id).where(Plan.number == PLAN_NUMBER)):
        return ["Dữ liệu mẫu đã có sẵn / demo data already present."]
    done = []
    units_csv = resources.files("inspection.data").joinpath("units-caobang-halang.csv").read_bytes()
    report = import_units(units_csv)
    done.append(f"Đơn vị hành chính / units: {report.summary()}")
    for path in DEFAULT_TEMPLATES:
        version, created = import_checklist(path.read_bytes(), publish=True)
        done.append(f"Danh mục / checklist {version.template.code} {version.version}"
                    f"{'' if created else ' (đã có / present)'}")
    users = {}
    co_ngan = unit_valid_on("01567", TRIP_DAY)
    for username, full_name, position, role in ACCOUNTS:
        existing = db.session.scalar(select(User).where(User.username == username))
        users[username] = existing or create_user(
            username, DEMO_PASSWORD, full_name, role, position,
            unit_valid_on(REPRESENTS[username], TRIP_DAY) if role == Role.unitrep else None,
            check_strength=False)
    done.append("Tài khoản / accounts: " + ", ".join(users))

    province = unit_valid_on("04", TRIP_DAY)
    plan = create_plan(PLAN_NUMBER, "Kế hoạch cải cách hành chính nhà nước tỉnh Cao Bằng năm 2021",
                       "UBND tỉnh Cao Bằng", date(2020, 12, 22), 2021, province, by=users["admin"])
    ha_lang, vinh_quy = unit_valid_on("048", TRIP_DAY), unit_valid_on("01561", TRIP_DAY)
    trip = create_trip(plan, "Kiểm tra công tác CCHC năm 2021 tại huyện Hạ Lang", TRIP_DAY,
                       TRIP_DAY, users["leader"], [users["inspector1"], users["inspector2"]],
                       [ha_lang, co_ngan, vinh_quy], place="Hạ Lang",
                       decision="Quyết định thành lập Đoàn kiểm tra công tác CCHC năm 2021 của "
                                "UBND tỉnh Cao Bằng",
                       by=users["admin"], decision_number=DECISION_NUMBER,
                       decision_date=DECISION_DATE)
    inspections = {i.unit.code: i for i in trip.inspections}
    # Written on Cô Ngân's minutes form: the officials at the meeting and the recipients.
    inspections["01567"].unit_officials = CO_NGAN_OFFICIALS
    inspections["01567"].recipients = CO_NGAN_RECIPIENTS
    district = inspections["048"]
    transition_inspection(district, "start", users["inspector1"])
    for code, value in HA_LANG_FIGURES.items():
        record_observation(district, code, {"value": value}, users["inspector1"], refresh=False)
    for code, result in HA_LANG_RESULTS.items():
        record_observation(district, code, {"result": result}, users["inspector2"], refresh=False)
    for code, text in HA_LANG_TEXTS.items():
        record_observation(district, code, {"text": text}, users["inspector2"], refresh=False)

    # Before the visit, xã Vinh Quý scored itself and sent its evidence (issue 16).
    seed_self_assessment(inspections["01561"], users["unitrep2"])
    # The two communes visited first: illustrative yes/no results (no published figures).
    for inspection, author in ((inspections["01567"], users["inspector1"]),
                               (inspections["01561"], users["inspector2"])):
        transition_inspection(inspection, "start", author)
        for item in inspection.checklist_version.items:
            if item.kind == "yesno":
                record_observation(inspection, item.code, {"result": "pass"}, author, refresh=False)
        transition_inspection(inspection, "submit", author)
    refresh_scores([i.id for i in trip.inspections])
    # Vinh Quý claimed two criteria not met that the team found met: the leader asks why.
    seed_explanation(inspections["01561"], users["leader"], users["unitrep2"])
    # Only yes/no results were illustrated: the leader approves Cô Ngân knowing the rest is
    # not assessed, and says why (printed in the minutes' remarks).
    transition_inspection(inspections["01567"], "approve", users["leader"], DEMO_APPROVAL_REASON,
                          confirm_unanswered=True)
    from .certificates import demo_signing

    if with_minutes and not demo_signing():
        done.append("Biên bản Cô Ngân chưa ký: không ở chế độ demo (INSPECTION_DEMO=1) / Cô Ngân's "
                    "minutes not signed: not in demo mode.")
    elif with_minutes:
        from .certificates import demo_pki, ensure_server_key_registered
        from .demo_pki import DEMO_PEOPLE
        from .minutes import build_minutes, public_url, sign_minutes

        # The demo accounts that sign have their demo certificates registered (the server
        # issued them, from the demo CA), as an official would register theirs.
        pki = demo_pki()
        for username, *_ in DEMO_PEOPLE:
            person = users[username]
            key = pki.signer(person.username, person.full_name, person.position)
            ensure_server_key_registered(person, key.certificate)
        build_minutes(inspections["01567"], users["leader"], public_url(SERVE_URL))
        sign_minutes(inspections["01567"], users["leader"], demo_key=True)
        sign_minutes(inspections["01567"], users["unitrep"], demo_key=True)
    done.append("Kế hoạch / plan 3199/KH-UBND; đợt / trip 01/10/2021: "
                + ", ".join(f"{i.unit.full_name} ({i.state.value})" for i in trip.inspections))
    if with_samples:
        done.append(seed_sample_demo(users, province))
    db.session.flush()
    return done


def seed_sample_demo(users: dict[str, User], province) -> str:
    """The conditions and samples demo: a 2025 plan and trip to xã Hạ Lang (leader, inspector1,
    inspector3) on the provincial extension, with two counts and three sampled dossiers entered
    through the sync ops, as a tablet sends them."""
    import uuid

    from .sync import apply_ops

    raw = resources.files("inspection.data").joinpath("demo-cchc-xa-2cap-caobang.json").read_bytes()
    version, _ = import_checklist(raw, publish=True)
    number, title, issued, year = SAMPLE_PLAN
    plan = create_plan(number, title, "UBND tỉnh Cao Bằng", issued, year, province,
                       by=users["admin"])
    unit = unit_valid_on("01558", SAMPLE_DAY)
    trip = create_trip(plan, "Kiểm tra xác suất hồ sơ TTHC tại xã Hạ Lang", SAMPLE_DAY,
                       SAMPLE_DAY, users["leader"], [users["inspector1"], users["inspector3"]],
                       [unit], place="Hạ Lang", by=users["admin"])
    inspection = trip.inspections[0]
    inspection.checklist_version_id = version.id
    db.session.flush()
    at = f"{SAMPLE_DAY.isoformat()}T09:00:00+07:00"
    ops = [{"op_id": uuid.uuid4(), "type": "observation.set", "inspection_id": inspection.id,
            "item_code": code, "base_version": 0, "fields": {"value": value},
            "at": datetime.fromisoformat(at)} for code, value in SAMPLE_FIGURES.items()]
    for ma, received, due, returned, apology in SAMPLE_DOSSIERS:
        ops.append({"op_id": uuid.uuid4(), "type": "sample.set", "inspection_id": inspection.id,
                    "item_code": "HS", "group": "HS", "sample_id": uuid.uuid4(),
                    "base_version": 0, "at": datetime.fromisoformat(at),
                    "fields": {"HS.MA": ma, "HS.NHAN": received, "HS.HEN": due,
                               "HS.TRA": returned, "HS.XINLOI": apology}})
    apply_ops(users["inspector1"], "demo-tablet", ops)
    return (f"Kế hoạch / plan {number}; đợt / trip {SAMPLE_DAY:%d/%m/%Y}: {unit.full_name} "
            f"({version.template.code} {version.version}, {len(SAMPLE_DOSSIERS)} hồ sơ mẫu / "
            "sampled dossiers)")


__all__ = ["seed_demo", "DEMO_PASSWORD", "DEMO_APPROVAL_REASON"]
