"""Who may do what on every route: a table-driven access matrix, then probes for IDOR and path
traversal.

`ROUTES` holds one entry per (method, rule) of the app's url_map saying who may use it; a route
without an entry (or an entry without a route) fails `test_every_route_has_an_access_rule`, so
no route is added without deciding its access. Each actor — anonymous, a deactivated account,
the secretariat (admin), the Hạ Lang trip's leader, a member of that trip, an inspector of
another trip, xã Cô Ngân's representative — calls every route on the objects of its own side
and of the other side of a two-sided world (each side: a trip with its own leader and team; an
approved inspection holding a photo, a conflict, a late submission, a finding, recommendations,
minutes and an unfinished upload; a submitted inspection; the unit's next inspection on a later
trip, with trip minutes). Every answer is classified:

- allowed: the authorisation passed — 2xx; a redirect neither to the sign-in page nor back with
  an error message; or a refusal about the request itself (409, 412, 422);
- refused: 403, or a form that redirected back with an error message;
- hidden: 404 — objects of others answer as if they did not exist (SECURITY.md);
- sign-in: 401 from the API, a redirect to /login?next=… from a page.

A refused or hidden write leaves every table as it was, and the lists name exactly what the
actor may see. The explicit probes: paths that try to leave /static, export tables and formats
that do not exist, tus upload ids of others or with `..`, another trip's ids answering exactly
like ids nobody has, one inspection's objects under another inspection's URL, and redirects off
the site.
"""
from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from database_states import database_state, load_demo
from PIL import Image
from sqlalchemy import select
from tables import table_rows

from inspection.checklists import load_default
from inspection.extensions import db
from inspection.models import (
    AdminUnit,
    ChecklistUpload,
    ChecklistVersion,
    Conflict,
    Inspection,
    LateSubmission,
    Observation,
    PaperMinutes,
    Plan,
    Recommendation,
    RecommendationEvidence,
    RecommendationStatus,
    Role,
    SelfAssessment,
    SelfAssessmentEvidence,
    SelfAssessmentExplanation,
    SelfAssessmentState,
    Trip,
    TripMember,
    TripRole,
    User,
    UserCertificate,
)
from inspection.services.accounts import create_user
from inspection.services.certificates import ensure_server_key_registered
from inspection.services.checklists import import_checklist, upload_checklist
from inspection.services.demo_pki import DemoPKI
from inspection.services.minutes import build_minutes
from inspection.services.planning import create_trip
from inspection.services.review import add_finding, add_recommendation
from inspection.services.storage import put_bytes
from inspection.services.units import unit_valid_on
from inspection.services.workflow import transition_inspection

PASSWORD = "demo1234"
TARGET, TARGET_NAME = "matrix-target", "Lý Thị Thử"  # the account the secretariat's routes act on
TUS = {"Tus-Resumable": "1.0.0"}
DRAFT_CHECKLIST = "2026.1"

# -- outcomes, and how an actor stands to what a request is about -------------------------------

ALLOWED, REFUSED, HIDDEN, SIGN_IN = "allowed", "refused", "hidden", "sign-in"

ANONYMOUS, DEACTIVATED = "anonymous", "deactivated"
ADMIN = "admin"
# To an inspection or trip:
LEADS, MEMBER, REP, OUTSIDER = ("leads its trip", "on its team", "the unit's representative",
                                "outsider")
# To an upload:
UPLOADER = "started the upload"
# Routes about no object in particular: the role.
LEADER, INSPECTOR, UNITREP = "leader", "inspector", "unitrep"

EVERYONE = frozenset({ANONYMOUS, DEACTIVATED, ADMIN, LEADS, MEMBER, REP, OUTSIDER, UPLOADER,
                      LEADER, INSPECTOR, UNITREP})


@dataclass(frozen=True)
class Access:
    """Who passes; who gets 404; the signed-out get sign-in; everyone else is refused."""

    allowed: frozenset
    hidden: frozenset = frozenset()

    def expected(self, relation: str) -> str:
        if relation in self.allowed:
            return ALLOWED
        if relation in self.hidden:
            return HIDDEN
        if relation in (ANONYMOUS, DEACTIVATED):
            return SIGN_IN
        return REFUSED


def access(*allowed: str, hidden: tuple[str, ...] = ()) -> Access:
    return Access(frozenset(allowed), frozenset(hidden))


PUBLIC = Access(EVERYONE)
SIGNS_IN = Access(EVERYONE - {DEACTIVATED})  # a deactivated account cannot sign in again
SIGNED_IN = access(ADMIN, LEADER, INSPECTOR, UNITREP)
ADMIN_ONLY = access(ADMIN)
EXPORTERS = access(ADMIN, LEADER)  # README: admin everything, a leader the trips they lead
VIEWERS = access(ADMIN, LEADS, MEMBER, REP, hidden=(OUTSIDER,))
TEAM = access(LEADS, MEMBER, hidden=(OUTSIDER,))
TRIP_LEADER = access(LEADS, hidden=(OUTSIDER,))
LEADER_OR_UNIT = access(LEADS, REP, hidden=(OUTSIDER,))  # signing; the unit's comments
# The trip archive: admin and the trip's leader; others who see the trip are refused with a
# message, those who do not see it get 404 (services/export.py `trip_for_archive`).
ARCHIVE = access(ADMIN, LEADS, hidden=(OUTSIDER,))
UPLOAD_OWNER = access(UPLOADER, hidden=(OUTSIDER,))
# Reporting a recommendation done: the unit's representative; others who see the inspection
# are refused with a message, those who do not see it get 404.
UNIT_REPORTS = access(REP, hidden=(OUTSIDER,))


# -- the world -----------------------------------------------------------------------------------

@dataclass
class Side:
    """One side of the world, by id."""

    approved: int  # holds the photo, conflict, late submission, finding and recommendations
    submitted: int  # waiting for the leader's approval
    later: int  # the unit's 2022 inspection, which follows up `approved`'s recommendations
    later_trip: int  # its trip, with trip minutes
    photo: int
    conflict: int
    late: int
    finding: int
    rec_to_update: int
    rec_to_delete: int
    rec_to_follow_up: int
    rec_to_report: int
    rec_with_evidence: int  # reported done by the unit, with an evidence picture
    evidence: int
    paper: int  # a stored scan of the approved inspection's minutes signed on paper
    upload: str  # unfinished, started by `uploader`
    upload_bytes: bytes
    uploader: int
    self_evidence: int = 0  # a file of the unit's submitted self-assessment

    def trip_and_units(self, about: str) -> tuple[int, set[int]]:
        """The trip and units that decide an actor's relation to a target ("approved", …)."""
        if about == "later_trip":
            trip = db.session.get(Trip, self.later_trip)
            return trip.id, {i.unit_id for i in trip.inspections}
        inspection = db.session.get(Inspection, getattr(self, about))
        return inspection.trip_id, {inspection.unit_id}


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


def tus_creation_headers(inspection_id: int, data: bytes) -> dict:
    meta = {"client_uuid": uuid.uuid4(), "inspection_id": inspection_id,
            "sha256": hashlib.sha256(data).hexdigest(), "filename": "anh.jpg",
            "content_type": "image/jpeg"}
    encoded = ",".join(f"{key} {base64.b64encode(str(value).encode()).decode()}"
                       for key, value in meta.items())
    return {**TUS, "Upload-Length": str(len(data)), "Upload-Metadata": encoded}


CHUNK_HEADERS = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}


def tus_create(client, inspection_id: int, data: bytes):
    return client.post("/api/v1/uploads", headers={**tus_creation_headers(inspection_id, data),
                                                   "X-CSRF-Token": client.csrf})


def move(inspection: Inspection, member: User, leader: User, approve: bool = True) -> None:
    """Start and submit (the team member), then approve (the leader) unless told otherwise."""
    transition_inspection(inspection, "start", member)
    transition_inspection(inspection, "submit", member)
    if approve:
        transition_inspection(inspection, "approve", leader, "Duyệt thử", confirm_unanswered=True)


def fill_side(login, approved: Inspection, submitted: Inspection, later: Inspection, leader: User,
              member: User, colour: tuple[int, int, int]) -> Side:
    """One of each object in the approved inspection, its minutes and the later trip's minutes,
    and, as the team member, a photo uploaded and another upload started."""
    finding = add_finding(approved, leader, "weakness", "Chưa niêm yết đủ thủ tục hành chính.")
    due = date(approved.scheduled_on.year + 1, 3, 31)
    recommendations = [add_recommendation(approved, leader, f"Kiến nghị {n}", due)
                       for n in range(5)]
    evidence_bytes = jpeg(tuple(c // 2 for c in colour))
    evidence = RecommendationEvidence(sha256=put_bytes(evidence_bytes),
                                      filename="bang-niem-yet.jpg",
                                      content_type="image/jpeg", size=len(evidence_bytes),
                                      width=64, height=48)
    recommendations[4].evidence.append(evidence)
    recommendations[4].status = RecommendationStatus.done
    self_assessment = SelfAssessment(inspection=approved, state=SelfAssessmentState.submitted)
    self_file = SelfAssessmentEvidence(sha256=put_bytes(b"%PDF-1.4 " + bytes(colour)),
                                       filename="ke-hoach.pdf", content_type="application/pdf",
                                       size=12)
    self_assessment.evidence.append(self_file)
    self_assessment.explanations.append(SelfAssessmentExplanation(
        item_code="TC.02", question="Đề nghị cung cấp văn bản.", answer_evidence_ids=[]))
    db.session.add(self_assessment)
    conflict = Conflict(inspection_id=approved.id, item_code="TTHC.20", field="value",
                        base_version=1,
                        current_value={"value": 50, "by": None},
                        incoming_value={"value": 55, "by": member.id},
                        incoming_op_id=uuid.uuid4(), author_id=member.id)
    late = LateSubmission(inspection_id=approved.id, op_id=uuid.uuid4(), author_id=member.id,
                          payload={"item_code": "TTHC.20", "fields": {"value": 77}})
    db.session.add_all([conflict, late])
    revision = build_minutes(approved, leader, "http://localhost")
    build_minutes(later.trip, leader, "http://localhost")
    scan = b"%PDF-1.7\n% a scan of the paper minutes\n" + bytes(colour)
    paper = PaperMinutes(inspection_id=approved.id, revision_id=revision.id,
                         sha256=put_bytes(scan), size=len(scan), pages=1,
                         source_type="application/pdf", dpi=300, uploaded_by_id=leader.id)
    db.session.add(paper)
    db.session.commit()

    client = login(member.username)
    photo_bytes, pending_bytes = jpeg(colour), jpeg(tuple(255 - c for c in colour))
    created = tus_create(client, approved.id, photo_bytes)
    assert created.status_code == 201, created.get_json()
    sent = client.patch(created.headers["Location"], data=photo_bytes,
                        headers={**CHUNK_HEADERS, "X-CSRF-Token": client.csrf})
    assert sent.status_code == 204, sent.get_json()
    pending = tus_create(client, approved.id, pending_bytes)
    assert pending.status_code == 201, pending.get_json()
    return Side(
        approved=approved.id, submitted=submitted.id, later=later.id,
        later_trip=later.trip_id, photo=int(sent.headers["Photo-Id"]), conflict=conflict.id,
        late=late.id, finding=finding.id, rec_to_update=recommendations[0].id,
        rec_to_delete=recommendations[1].id, rec_to_follow_up=recommendations[2].id,
        rec_to_report=recommendations[3].id, rec_with_evidence=recommendations[4].id,
        evidence=evidence.id, paper=paper.id, self_evidence=self_file.id,
        upload=pending.headers["Location"].rsplit("/", 1)[1],
        upload_bytes=pending_bytes, uploader=member.id)


@pytest.fixture(scope="session")
def matrix_pki_folder(demo_pki_folder) -> Path:
    """The demo PKI with a key for the account the secretariat's routes act on, issued once."""
    DemoPKI(demo_pki_folder).ensure_person(TARGET, TARGET_NAME, "")
    return demo_pki_folder


@pytest.fixture
def world(app, login, matrix_pki_folder) -> dict[str, Side]:
    """Side "ha_lang": the demo trip (leader; inspector1, inspector2) with Cô Ngân approved and
    Vinh Quý submitted, and Cô Ngân's 2022 trip (leader; inspector1). Side "an_lac": a trip led
    by leader2 with inspector3 (An Lạc approved, Kim Loan submitted), and An Lạc's 2022 trip
    (leader2; inspector3). Also a draft checklist version, for the publish route; an account
    the secretariat's routes act on; and certificates registered to it and to the leader.
    Built once per backend and run; each test gets the same rows and files back."""
    return database_state(app, "access-matrix-world",
                          lambda: build_world(app, login, matrix_pki_folder))


def build_world(demo, login, matrix_pki_folder: Path) -> dict[str, Side]:
    load_demo(demo)
    shutil.copytree(matrix_pki_folder, Path(demo.instance_path) / "pki")
    pki = DemoPKI(Path(demo.instance_path) / "pki")
    target = create_user(TARGET, PASSWORD, TARGET_NAME, Role.inspector, check_strength=False)
    ensure_server_key_registered(target, pki.signer(TARGET, TARGET_NAME, "").certificate)
    ensure_server_key_registered(user("leader"), pki.signer(
        "leader", "Nguyễn Văn An", "Phó Giám đốc Sở Nội vụ").certificate)
    plan = db.session.scalar(select(Plan))
    leader, inspector1, inspector3 = user("leader"), user("inspector1"), user("inspector3")
    leader2 = create_user("leader2", PASSWORD, "Đàm Văn Giang", Role.leader,
                          "Phó Chánh Văn phòng UBND tỉnh", check_strength=False)
    demo_trip = {i.unit.code: i for i in db.session.scalars(select(Inspection))}

    day = date(2021, 10, 2)
    an_lac, kim_loan = create_trip(plan, "Kiểm tra CCHC tại xã An Lạc, xã Kim Loan", day, day,
                                   leader2, [inspector3], [unit_valid_on("01555", day),
                                                  unit_valid_on("01549", day)]).inspections
    move(an_lac, inspector3, leader2)
    move(kim_loan, inspector3, leader2, approve=False)
    later = {}
    for code, day, head, member in (("01567", date(2022, 10, 3), leader, inspector1),
                                    ("01555", date(2022, 10, 4), leader2, inspector3)):
        [later[code]] = create_trip(plan, f"Kiểm tra năm 2022 ({code})", day, day, head, [member],
                                    [unit_valid_on(code, day)]).inspections
        move(later[code], member, head)
    draft = load_default("cchc-xa-2cap")
    draft["version"] = DRAFT_CHECKLIST
    import_checklist(draft)
    upload_checklist(b'{"format": "cchc-checklist/1"}', "bo-chi-so.json", user("admin"))
    db.session.commit()
    assert (an_lac.unit.code, kim_loan.unit.code) == ("01555", "01549")

    return {"ha_lang": fill_side(login, demo_trip["01567"], demo_trip["01561"], later["01567"],
                                 leader, inspector1, (200, 30, 30)),
            "an_lac": fill_side(login, an_lac, kim_loan, later["01555"], leader2, inspector3,
                                (30, 30, 200))}


# -- how each route is called --------------------------------------------------------------------

Args = Callable[[Side], dict]
Send = Callable[[Side, "ActorSession"], dict]


@dataclass(frozen=True)
class Probe:
    """How to call a route, and who may.

    `about` names the target the actor's relation is computed against ("approved", "submitted",
    "later", "later_trip", "upload"), or None when the route is about nothing in particular and
    the role decides. `args` fills the rule's variables; `send` gives the body and headers;
    `may_change` names tables a refused write still touches by design.
    """

    access: Access
    about: str | None = None
    args: Args = lambda side: {}
    query: Args = lambda side: {}
    send: Send = lambda side, session: {}
    judge: Callable | None = None
    fresh_session: bool = False
    may_change: frozenset = frozenset()


def ids(**names: str) -> Args:
    """Rule variables from the side's objects: ids(inspection_id="approved", late_id="late")."""
    return lambda side: {variable: getattr(side, name) for variable, name in names.items()}


def form(**values) -> Send:
    return lambda side, session: {"data": dict(values)}


def draft_checklist(side) -> dict:
    return {"version_id": db.session.scalar(
        select(ChecklistVersion.id).where(ChecklistVersion.version == DRAFT_CHECKLIST))}


def draft_part(part: str, key: str) -> Args:
    return lambda side: {**draft_checklist(side), "part": part, "key": key}


def kept_upload(side) -> dict:
    return {"upload_id": db.session.scalar(select(ChecklistUpload.id))}


def credentials(as_json: bool) -> Send:
    def send(side, session):
        body = {"username": session.sign_in_name, "password": PASSWORD}
        return {"json": body} if as_json else {"data": body}
    return send


def unsigned_pdf(side, session) -> dict:
    return {"data": b"%PDF-1.7\n% signed by nobody\n", "content_type": "application/pdf"}


def unsigned_pdf_file(side, session) -> dict:
    return {"data": {"file": (io.BytesIO(b"%PDF-1.7\n% signed by nobody\n"), "bb.pdf")},
            "content_type": "multipart/form-data"}


def target_account(side) -> dict:
    return {"user_id": user(TARGET).id}


def certificate_of(username: str) -> Args:
    def args(side) -> dict:
        return {"user_id": user(username).id, "certificate_id": db.session.scalar(
            select(UserCertificate.id).where(UserCertificate.user_id == user(username).id))}
    return args


def own_certificate(side) -> dict:
    return {"certificate_id": certificate_of("leader")(side)["certificate_id"]}


def one_op(side, session=None) -> dict:
    """A device's op on the approved inspection: a team member's is kept as a late submission."""
    return {"json": {"device_id": "matrix-tablet", "ops": [{
        "op_id": str(uuid.uuid4()), "type": "observation.set", "inspection_id": side.approved,
        "item_code": "TTHC.20", "base_version": 0, "fields": {"value": 12},
        "at": "2026-03-02T09:15:00+07:00"}]}}


def new_photo(side, session) -> dict:
    return {"headers": tus_creation_headers(side.approved, jpeg((10, 160, 10)))}


def the_rest_of_the_upload(side, session) -> dict:
    return {"data": side.upload_bytes, "headers": dict(CHUNK_HEADERS)}


def correction(side, session) -> dict:
    """The leader's correction of TTHC.20 with the version just read, as the page sends it."""
    version = db.session.scalar(select(Observation.version).where(
        Observation.inspection_id == side.approved, Observation.item_code == "TTHC.20"))
    return {"data": {"item_code": "TTHC.20", "field": "value", "value": "1234",
                     "version": str(version or 0)}}


def unit_comments(side, session) -> dict:
    revision = db.session.get(Inspection, side.approved).revision
    return {"data": {"text": "Đơn vị nhất trí với kết quả.", "revision": str(revision)}}


def judge_push(response, client) -> str:
    """A push answers 200 with one result per op; not_found is hidden, forbidden refused."""
    if response.status_code != 200:
        return classify(response, client)
    [result] = response.get_json()["results"]
    if result["status"] == "rejected" and result["reason"] == "not_found":
        return HIDDEN
    if result["status"] == "rejected" and result["reason"] == "forbidden":
        return REFUSED
    return ALLOWED


def judge_self_assessment_form(response, client) -> str:
    """A self-assessment form of the representative on an inspection whose visit has started:
    the authorisation passed, then the state refused it with its message (as the API's 409)."""
    if 300 <= response.status_code < 400:
        flashes = take_flashes(client)
        if any(category == "error" and "đã bắt đầu làm việc tại đơn vị" in text
               for category, text in flashes):
            return ALLOWED
        target = urlsplit(response.headers["Location"])
        if target.path == "/login" and "next" in parse_qs(target.query):
            return SIGN_IN
        return REFUSED if any(category == "error" for category, _ in flashes) else ALLOWED
    return classify(response, client)


AUDITED = frozenset({"audit_events"})

ROUTES: dict[tuple[str, str], Probe] = {
    # Public: static files, the field app's shell, the API description, sign-in, language, and
    # verifying minutes (the QR code's landing page shows a stored revision by inspection id).
    ("GET", "/static/<path:filename>"): Probe(PUBLIC,
                                              args=lambda s: {"filename": "css/office.css"}),
    ("GET", "/app"): Probe(PUBLIC),
    ("GET", "/app/"): Probe(PUBLIC),
    ("GET", "/app/sw.js"): Probe(PUBLIC),
    ("GET", "/app/manifest.webmanifest"): Probe(PUBLIC),
    ("GET", "/api/openapi.json"): Probe(PUBLIC),
    ("GET", "/login"): Probe(PUBLIC),
    # A refused sign-in is recorded, for throttling.
    ("POST", "/login"): Probe(SIGNS_IN, send=credentials(as_json=False), fresh_session=True,
                              may_change=AUDITED),
    ("POST", "/api/v1/auth/login"): Probe(SIGNS_IN, send=credentials(as_json=True),
                                          fresh_session=True, may_change=AUDITED),
    ("GET", "/lang/<code>"): Probe(PUBLIC, args=lambda s: {"code": "en"}, fresh_session=True),
    ("GET", "/minutes/verify"): Probe(PUBLIC,
                                      query=lambda s: {"inspection": s.approved, "revision": 1}),
    ("POST", "/minutes/verify"): Probe(PUBLIC, send=unsigned_pdf_file),
    ("POST", "/api/v1/minutes/verify"): Probe(PUBLIC, send=unsigned_pdf),

    # Anyone signed in (what the lists hold is checked after the matrix).
    ("POST", "/api/v1/auth/logout"): Probe(SIGNED_IN, fresh_session=True),
    ("POST", "/logout"): Probe(SIGNED_IN, fresh_session=True),
    ("GET", "/api/v1/auth/me"): Probe(SIGNED_IN),
    ("GET", "/api/v1/inspections"): Probe(SIGNED_IN),
    ("GET", "/api/v1/assignments"): Probe(SIGNED_IN),
    ("GET", "/api/v1/reports/ranking"): Probe(SIGNED_IN),
    ("GET", "/api/v1/reports/indicators"): Probe(SIGNED_IN),
    ("GET", "/api/v1/reports/inspections"): Probe(SIGNED_IN),
    ("GET", "/api/v1/reports/recommendations"): Probe(SIGNED_IN),
    ("GET", "/"): Probe(SIGNED_IN),
    ("GET", "/overview/"): Probe(SIGNED_IN),
    ("GET", "/overview/inspections"): Probe(SIGNED_IN),
    ("GET", "/overview/ranking"): Probe(SIGNED_IN),
    ("GET", "/overview/recommendations"): Probe(SIGNED_IN),
    ("GET", "/overview/export/<table>.<fmt>"): Probe(
        EXPORTERS, args=lambda s: {"table": "inspections", "fmt": "csv"}),

    # The secretariat's pages; the forms are sent empty (422: the check passed, nothing made).
    ("GET", "/admin/users"): Probe(ADMIN_ONLY),
    ("POST", "/admin/users"): Probe(ADMIN_ONLY, send=form(username="", role="inspector")),
    ("GET", "/admin/units"): Probe(ADMIN_ONLY),
    ("POST", "/admin/units"): Probe(ADMIN_ONLY, send=form(code="")),
    ("GET", "/admin/plans"): Probe(ADMIN_ONLY),
    ("POST", "/admin/plans"): Probe(ADMIN_ONLY, send=form(number="")),
    ("GET", "/admin/trips"): Probe(ADMIN_ONLY),
    ("POST", "/admin/trips"): Probe(ADMIN_ONLY, send=form(name="")),
    # Correcting a plan or a trip and its team (sent empty: 422, nothing changed).
    ("GET", "/admin/plans/<int:plan_id>"): Probe(
        ADMIN_ONLY, args=lambda s: {"plan_id": db.session.get(Trip, s.later_trip).plan_id}),
    ("POST", "/admin/plans/<int:plan_id>"): Probe(
        ADMIN_ONLY, args=lambda s: {"plan_id": db.session.get(Trip, s.later_trip).plan_id},
        send=form(number="")),
    ("GET", "/admin/trips/<int:trip_id>"): Probe(ADMIN_ONLY, args=ids(trip_id="later_trip")),
    ("POST", "/admin/trips/<int:trip_id>"): Probe(ADMIN_ONLY, args=ids(trip_id="later_trip"),
                                                  send=form(name="")),
    ("GET", "/admin/checklists"): Probe(ADMIN_ONLY),
    ("POST", "/admin/checklists"): Probe(ADMIN_ONLY),
    ("GET", "/admin/checklists/<int:version_id>"): Probe(ADMIN_ONLY, args=draft_checklist),
    ("POST", "/admin/checklists/<int:version_id>/publish"): Probe(ADMIN_ONLY, args=draft_checklist),
    ("GET", "/admin/checklists/<int:version_id>/workbook.xlsx"): Probe(ADMIN_ONLY,
                                                                      args=draft_checklist),
    ("GET", "/admin/checklists/uploads/<int:upload_id>"): Probe(ADMIN_ONLY, args=kept_upload),
    ("GET", "/admin/checklists/uploads/<int:upload_id>/file"): Probe(ADMIN_ONLY,
                                                                     args=kept_upload),
    # The checklist editor (forms sent empty: 422, or 409 once the probe above published it).
    ("GET", "/admin/checklists/<int:version_id>/edit"): Probe(ADMIN_ONLY, args=draft_checklist),
    ("GET", "/admin/checklists/<int:version_id>/edit/<part>/<key>"): Probe(
        ADMIN_ONLY, args=draft_part("item", "CDDH.01")),
    ("POST", "/admin/checklists/<int:version_id>/edit/<part>/<key>"): Probe(
        ADMIN_ONLY, args=draft_part("item", "new"), send=form(code="")),
    ("GET", "/admin/checklists/<int:version_id>/edit/<part>/<key>/delete"): Probe(
        ADMIN_ONLY, args=draft_part("section", "TD")),
    ("POST", "/admin/checklists/<int:version_id>/edit/<part>/<key>/delete"): Probe(
        ADMIN_ONLY, args=draft_part("item", "TTHC.25")),  # a rule reads it: 422
    ("POST", "/admin/checklists/<int:version_id>/edit/<part>/<key>/move"): Probe(
        ADMIN_ONLY, args=draft_part("section", "CDDH"), send=form(direction="down")),
    ("POST", "/admin/checklists/<int:version_id>/new-draft"): Probe(ADMIN_ONLY,
                                                                    args=draft_checklist),
    ("GET", "/admin/checklists/<int:version_id>/preview/<section>"): Probe(
        ADMIN_ONLY, args=lambda side: {**draft_checklist(side), "section": "CDDH"}),
    ("GET", "/admin/checklists/compare"): Probe(
        ADMIN_ONLY, query=lambda side: {"new": draft_checklist(side)["version_id"]}),

    # One's own account: the password (sent empty: 422), the other sessions, certificates. A
    # registered certificate is withdrawn by its owner (the leader's) or the secretariat, on the
    # owner's admin page; any other account's id is 404 here.
    ("GET", "/account"): Probe(SIGNED_IN),
    ("POST", "/account/password"): Probe(SIGNED_IN, send=form(current_password="")),
    ("POST", "/account/sessions"): Probe(SIGNED_IN),  # keeps the session it came from
    ("POST", "/account/certificates"): Probe(SIGNED_IN),
    ("POST", "/account/certificates/<int:certificate_id>/withdraw"): Probe(
        access(LEADER, hidden=(ADMIN, INSPECTOR, UNITREP)), args=own_certificate),

    # The secretariat manages any account (here another inspector's): the forms sent empty are
    # 422; deactivating, reactivating and ending its sessions work.
    ("GET", "/admin/users/<int:user_id>"): Probe(ADMIN_ONLY, args=target_account),
    ("POST", "/admin/users/<int:user_id>"): Probe(ADMIN_ONLY, args=target_account,
                                                  send=form(full_name="")),
    ("POST", "/admin/users/<int:user_id>/deactivate"): Probe(ADMIN_ONLY, args=target_account),
    ("POST", "/admin/users/<int:user_id>/activate"): Probe(ADMIN_ONLY, args=target_account),
    ("POST", "/admin/users/<int:user_id>/password"): Probe(ADMIN_ONLY, args=target_account,
                                                           send=form(password="")),
    ("POST", "/admin/users/<int:user_id>/sessions"): Probe(ADMIN_ONLY, args=target_account),
    ("POST", "/admin/users/<int:user_id>/certificates"): Probe(ADMIN_ONLY, args=target_account),
    ("POST", "/admin/users/<int:user_id>/certificates/<int:certificate_id>/withdraw"): Probe(
        ADMIN_ONLY, args=certificate_of(TARGET)),

    # Reading an inspection and what is in it.
    ("GET", "/api/v1/inspections/<int:inspection_id>"): Probe(
        VIEWERS, "approved", ids(inspection_id="approved")),
    ("GET", "/api/v1/inspections/<int:inspection_id>/evaluation"): Probe(
        VIEWERS, "approved", ids(inspection_id="approved")),
    ("GET", "/inspections/<int:inspection_id>"): Probe(VIEWERS, "approved",
                                                       ids(inspection_id="approved")),
    ("GET", "/api/v1/sync/pull"): Probe(
        VIEWERS, "approved", query=lambda s: {"since": 0, "inspection_id": s.approved}),
    ("GET", "/api/v1/photos/<int:photo_id>"): Probe(VIEWERS, "approved", ids(photo_id="photo")),
    ("GET", "/api/v1/photos/<int:photo_id>/thumb"): Probe(VIEWERS, "approved",
                                                          ids(photo_id="photo")),
    ("GET", "/api/v1/inspections/<int:target_id>/minutes"): Probe(
        VIEWERS, "approved", ids(target_id="approved")),
    ("GET", "/api/v1/inspections/<int:target_id>/minutes.pdf"): Probe(
        VIEWERS, "approved", ids(target_id="approved")),

    # Recording results: the team. An approved inspection cannot start again (409, after the
    # check); a device's op on it becomes a late submission; photos may still come in.
    ("POST", "/api/v1/inspections/<int:inspection_id>/transitions"): Probe(
        TEAM, "approved", ids(inspection_id="approved"), send=lambda s,
        _: {"json": {"action": "start"}}),
    ("POST", "/api/v1/sync/push"): Probe(  # a refused op is remembered, so a retry is "duplicate"
        TEAM, "approved", send=one_op, judge=judge_push, may_change=frozenset({"applied_ops"})),
    ("POST", "/api/v1/uploads"): Probe(TEAM, "approved", send=new_photo),
    ("PATCH", "/api/v1/uploads/<upload_id>"): Probe(
        UPLOAD_OWNER, "upload", ids(upload_id="upload"), send=the_rest_of_the_upload),

    # The leader's review: approval, conflicts, late submissions, corrections, findings,
    # recommendations, follow-up of the last visit's; the unit's comments; the unit's report.
    ("POST", "/inspections/<int:inspection_id>"): Probe(
        TRIP_LEADER, "submitted", ids(inspection_id="submitted"),
        send=form(action="approve", confirm_unanswered="1", reason="Duyệt thử")),
    ("POST", "/inspections/<int:inspection_id>/conflicts/<int:conflict_id>"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved", conflict_id="conflict"),
        send=form(choice="current")),
    ("POST", "/inspections/<int:inspection_id>/late/<int:late_id>"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved", late_id="late"),
        send=form(decision="dismiss")),
    ("POST", "/inspections/<int:inspection_id>/observations"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved"), send=correction),
    ("POST", "/inspections/<int:inspection_id>/findings"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved"),
        send=form(kind="strength", text="Bộ phận một cửa gọn gàng.")),
    ("POST", "/inspections/<int:inspection_id>/findings/<int:finding_id>/delete"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved", finding_id="finding")),
    ("POST", "/inspections/<int:inspection_id>/recommendations"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved"),
        send=form(text="Bố trí máy tra cứu.", due_on="2022-06-30")),
    ("POST", "/inspections/<int:inspection_id>/recommendations/<int:recommendation_id>"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved", recommendation_id="rec_to_update"),
        send=form(text="Kiến nghị đã sửa.", due_on="2022-06-30")),
    ("POST",
     "/inspections/<int:inspection_id>/recommendations/<int:recommendation_id>/delete"): Probe(
        TRIP_LEADER, "approved", ids(inspection_id="approved", recommendation_id="rec_to_delete")),
    ("POST", "/inspections/<int:inspection_id>/follow-ups/<int:recommendation_id>"): Probe(
        TRIP_LEADER, "later", ids(inspection_id="later", recommendation_id="rec_to_follow_up"),
        send=form(result="not_done", evidence="Chưa bố trí.")),
    ("POST", "/inspections/<int:inspection_id>/comments"): Probe(
        LEADER_OR_UNIT, "approved", ids(inspection_id="approved"), send=unit_comments),
    ("POST", "/overview/recommendations/<int:recommendation_id>/done"): Probe(
        UNIT_REPORTS, "approved", ids(recommendation_id="rec_to_report"),
        send=form(note="Đã làm.", confirm="yes")),
    # (after the report above: the representative withdraws it, then replies in words)
    ("POST", "/overview/recommendations/<int:recommendation_id>/undo"): Probe(
        UNIT_REPORTS, "approved", ids(recommendation_id="rec_to_report")),
    ("POST", "/overview/recommendations/<int:recommendation_id>/reply"): Probe(
        UNIT_REPORTS, "approved", ids(recommendation_id="rec_to_report"),
        send=form(reply="Đang bố trí kinh phí.")),
    # The unit's evidence files: whoever sees the inspection that made the recommendation.
    ("GET", "/overview/recommendations/<int:recommendation_id>/evidence/<int:evidence_id>"): Probe(
        VIEWERS, "approved", ids(recommendation_id="rec_with_evidence", evidence_id="evidence")),

    # The unit's self-assessment: everyone who sees the inspection reads it; the unit's
    # representative writes (here 409: the visit has started), the team and admins are refused.
    ("GET", "/api/v1/inspections/<int:inspection_id>/self-assessment"): Probe(
        VIEWERS, "approved", ids(inspection_id="approved")),
    ("PUT", "/api/v1/inspections/<int:inspection_id>/self-assessment/<item_code>"): Probe(
        UNIT_REPORTS, "approved", lambda s: {"inspection_id": s.approved, "item_code": "TC.02"},
        send=lambda s, _: {"json": {"result": "pass"}}),
    ("POST", "/api/v1/inspections/<int:inspection_id>/self-assessment/submit"): Probe(
        UNIT_REPORTS, "approved", ids(inspection_id="approved")),
    ("POST", "/api/v1/inspections/<int:inspection_id>/self-assessment/withdraw"): Probe(
        UNIT_REPORTS, "approved", ids(inspection_id="approved")),
    ("GET", "/api/v1/inspections/<int:inspection_id>/self-assessment/evidence/<int:evidence_id>"):
        Probe(VIEWERS, "approved", ids(inspection_id="approved", evidence_id="self_evidence")),

    # The same in the office pages; the leader asks the unit to explain a criterion, the unit's
    # representative answers (with files).
    ("GET", "/inspections/<int:inspection_id>/self-assessment"): Probe(
        VIEWERS, "approved", ids(inspection_id="approved")),
    ("POST", "/inspections/<int:inspection_id>/self-assessment/items/<item_code>"): Probe(
        UNIT_REPORTS, "approved", lambda s: {"inspection_id": s.approved, "item_code": "TC.02"},
        send=form(result="pass"), judge=judge_self_assessment_form),
    ("POST", "/inspections/<int:inspection_id>/self-assessment/submit"): Probe(
        UNIT_REPORTS, "approved", ids(inspection_id="approved"),
        judge=judge_self_assessment_form),
    ("POST", "/inspections/<int:inspection_id>/self-assessment/withdraw"): Probe(
        UNIT_REPORTS, "approved", ids(inspection_id="approved"),
        judge=judge_self_assessment_form),
    ("GET", "/inspections/<int:inspection_id>/self-assessment/evidence/<int:evidence_id>"): Probe(
        VIEWERS, "approved", ids(inspection_id="approved", evidence_id="self_evidence")),
    ("POST", "/inspections/<int:inspection_id>/self-assessment/explanations/<item_code>"): Probe(
        TRIP_LEADER, "approved", lambda s: {"inspection_id": s.approved, "item_code": "CDDH.01"},
        send=form(question="Đề nghị giải trình.")),
    ("POST",
     "/inspections/<int:inspection_id>/self-assessment/explanations/<item_code>/answer"): Probe(
        UNIT_REPORTS, "approved", lambda s: {"inspection_id": s.approved, "item_code": "TC.02"},
        send=form(answer="Văn bản đang trình ký.")),

    # An inspection's minutes: the leader builds and signs first, the unit's representative
    # second (signing before the leader is a 409, after the check).
    ("POST", "/api/v1/inspections/<int:target_id>/minutes"): Probe(
        TRIP_LEADER, "approved", ids(target_id="approved")),
    ("POST", "/inspections/<int:inspection_id>/minutes/<action>"): Probe(
        TRIP_LEADER, "approved", lambda s: {"inspection_id": s.approved, "action": "build"}),
    ("POST", "/api/v1/inspections/<int:target_id>/minutes/sign"): Probe(
        LEADER_OR_UNIT, "approved", ids(target_id="approved")),
    ("POST", "/api/v1/inspections/<int:target_id>/minutes/upload"): Probe(
        LEADER_OR_UNIT, "approved", ids(target_id="approved"), send=unsigned_pdf),
    # The paper fallback: the leader uploads the scan (this one is refused by content, 422,
    # after the check); whoever reads the minutes reads the scans.
    ("POST", "/api/v1/inspections/<int:target_id>/minutes/paper"): Probe(
        TRIP_LEADER, "approved", ids(target_id="approved"), send=unsigned_pdf),
    ("GET", "/api/v1/inspections/<int:target_id>/minutes/paper"): Probe(
        VIEWERS, "approved", ids(target_id="approved")),
    ("GET", "/api/v1/inspections/<int:target_id>/minutes/paper/<int:scan_id>.pdf"): Probe(
        VIEWERS, "approved", ids(target_id="approved", scan_id="paper")),

    # A trip's minutes and files.
    ("GET", "/api/v1/trips/<int:target_id>/minutes"): Probe(
        VIEWERS, "later_trip", ids(target_id="later_trip")),
    ("GET", "/api/v1/trips/<int:target_id>/minutes.pdf"): Probe(
        VIEWERS, "later_trip", ids(target_id="later_trip")),
    ("POST", "/api/v1/trips/<int:target_id>/minutes"): Probe(
        TRIP_LEADER, "later_trip", ids(target_id="later_trip")),
    ("POST", "/api/v1/trips/<int:target_id>/minutes/sign"): Probe(
        LEADER_OR_UNIT, "later_trip", ids(target_id="later_trip")),
    ("POST", "/api/v1/trips/<int:target_id>/minutes/upload"): Probe(
        LEADER_OR_UNIT, "later_trip", ids(target_id="later_trip"), send=unsigned_pdf),
    ("GET", "/overview/trips/<int:trip_id>/archive.zip"): Probe(
        ARCHIVE, "later_trip", ids(trip_id="later_trip")),
    # The trip page with the trip minutes: whoever sees the trip; building on it is the leader's.
    ("GET", "/trips/<int:trip_id>"): Probe(VIEWERS, "later_trip", ids(trip_id="later_trip")),
    ("POST", "/trips/<int:trip_id>/minutes/<action>"): Probe(
        TRIP_LEADER, "later_trip", lambda s: {"trip_id": s.later_trip, "action": "build"}),
}


# -- actors --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    name: str
    username: str | None  # None: nobody signed in
    own_side: str
    deactivated: bool = False


ACTORS = [
    Actor("anonymous", None, "ha_lang"),
    Actor("deactivated", "inspector2", "ha_lang", deactivated=True),  # on the Hạ Lang team
    Actor("admin", "admin", "ha_lang"),
    Actor("leader", "leader", "ha_lang"),
    Actor("inspector1", "inspector1", "ha_lang"),
    Actor("inspector3", "inspector3", "an_lac"),
    Actor("unitrep", "unitrep", "ha_lang"),
]
OTHER_SIDE = {"ha_lang": "an_lac", "an_lac": "ha_lang"}


class ActorSession:
    """An actor's client, and fresh ones for the routes that end or start a session. Every client
    has a CSRF token (the anonymous one from the sign-in form), so that writes test the
    authorisation and not CSRF."""

    def __init__(self, actor: Actor, app, login, form_token):
        self.actor, self.app, self.login, self.form_token = actor, app, login, form_token
        self.sign_in_name = actor.username or "inspector1"
        self.client = self._new_client()
        self.user_id = user(actor.username).id if actor.username else None
        if actor.deactivated:  # signed in, then the secretariat deactivates the account
            db.session.get(User, self.user_id).active = False
            db.session.commit()

    def _new_client(self):
        if self.actor.username is None:
            client = self.app.test_client()
            client.csrf = self.form_token(client, "/login")
            return client
        return self.login(self.actor.username)

    def fresh(self):
        # A deactivated account cannot sign in again: it keeps its old, dead session.
        return self.client if self.actor.deactivated else self._new_client()

    def relation(self, side: Side, about: str | None) -> str:
        """How the actor stands to the target, from the data (not from services/access.py)."""
        if self.actor.username is None:
            return ANONYMOUS
        if self.actor.deactivated:
            return DEACTIVATED
        me = db.session.get(User, self.user_id)
        if about is None:
            return {Role.admin: ADMIN, Role.leader: LEADER, Role.inspector: INSPECTOR,
                    Role.unitrep: UNITREP}[me.role]
        if about == "upload":
            return UPLOADER if side.uploader == me.id else OUTSIDER
        if me.role == Role.admin:
            return ADMIN
        trip_id, unit_ids = side.trip_and_units(about)
        role = db.session.scalar(select(TripMember.role).where(TripMember.trip_id == trip_id,
                                                               TripMember.user_id == me.id))
        if role is not None:
            return LEADS if role == TripRole.leader else MEMBER
        if me.role == Role.unitrep and me.unit_id in unit_ids:
            return REP
        return OUTSIDER


# -- reading the answers -------------------------------------------------------------------------

def take_flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return session.pop("_flashes", [])


def classify(response, client) -> str:
    """ALLOWED, REFUSED, HIDDEN or SIGN_IN; anything else is described, so that it never
    matches an expectation and shows in the failures."""
    status = response.status_code
    # Pages show (and so consume) their messages; only a redirect leaves them in the session.
    flashes = take_flashes(client) if 300 <= status < 400 else []
    if status >= 500:
        return f"server error {status}"
    if status == 400:
        return f"bad request (CSRF?): {response.get_data(as_text=True)[:200]}"
    if status == 401:
        return SIGN_IN
    if status == 403:
        return REFUSED
    if status == 404:
        return HIDDEN
    if 300 <= status < 400:
        target = urlsplit(response.headers["Location"])
        if target.path == "/login" and "next" in parse_qs(target.query):
            return SIGN_IN
        return REFUSED if any(category == "error" for category, _ in flashes) else ALLOWED
    return ALLOWED


def rules_by_key(app) -> dict[tuple[str, str], object]:
    """(method, rule) → Rule for every route. HEAD and OPTIONS come with GET and from Flask;
    the one HEAD of its own (tus, on /api/v1/uploads/<id>) is probed with the uploads below."""
    return {(method, rule.rule): rule for rule in app.url_map.iter_rules()
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})}


# -- the matrix ----------------------------------------------------------------------------------

def test_every_route_has_an_access_rule(app):
    routes = set(rules_by_key(app))
    assert sorted(routes - set(ROUTES)) == [], \
        "routes without an entry in ROUTES: decide who may use them"
    assert sorted(set(ROUTES) - routes) == [], "entries in ROUTES for routes that no longer exist"


@pytest.mark.parametrize("actor", ACTORS, ids=[actor.name for actor in ACTORS])
def test_each_actor_gets_exactly_its_access_on_every_route(world, actor, app, login, form_token):
    session = ActorSession(actor, app, login, form_token)
    sides = {"own": world[actor.own_side], "other": world[OTHER_SIDE[actor.own_side]]}
    urls = app.url_map.bind("localhost")
    rules = rules_by_key(app)
    failures = []
    for (method, rule), probe in ROUTES.items():
        for which, side in (sides.items() if probe.about else [("-", sides["own"])]):
            expected = probe.access.expected(session.relation(side, probe.about))
            client = session.fresh() if probe.fresh_session else session.client
            request = probe.send(side, session)
            if method != "GET":
                request["headers"] = {**request.get("headers", {}), "X-CSRF-Token": client.csrf}
            before = table_rows() if method != "GET" and expected != ALLOWED else None
            path = urls.build(rules[(method, rule)].endpoint, probe.args(side))
            assert "?" not in path, f"{rule}: an argument was left over: {path}"
            response = client.open(path, method=method, query_string=probe.query(side),
                                   buffered=True, **request)
            got = (probe.judge or classify)(response, client)
            if got != expected:
                failures.append(f"{method} {rule} [{which}]: expected {expected}, got {got} "
                                f"({response.status_code})")
            elif before is not None:
                after = table_rows()
                changed = sorted(t for t in after if after[t] != before[t]
                                 and t not in probe.may_change)
                if changed:
                    failures.append(f"{method} {rule} [{which}]: {got}, yet it changed "
                                    f"{', '.join(changed)}")
    assert failures == [], f"{actor.name}:\n" + "\n".join(failures)

    if actor.username and not actor.deactivated:
        check_lists_name_only_what_the_actor_may_see(session, world)


def check_lists_name_only_what_the_actor_may_see(session: ActorSession, world: dict[str, Side]):
    """The inspections list and the change feed name exactly the inspections the actor may read;
    the field app's assignments exactly those of the actor's teams."""
    everything, visible, team = set(), set(), set()
    for side in world.values():
        for about in ("approved", "submitted", "later"):
            inspection_id, relation = getattr(side, about), session.relation(side, about)
            everything.add(inspection_id)
            if VIEWERS.expected(relation) == ALLOWED:
                visible.add(inspection_id)
            if TEAM.expected(relation) == ALLOWED:
                team.add(inspection_id)
    client = session.client
    listed = {i["id"] for i in client.get("/api/v1/inspections").get_json()}
    assert listed & everything == visible
    assigned = {a["inspection"]["id"]
                for a in client.get("/api/v1/assignments").get_json()["assignments"]}
    assert assigned & everything == team
    feed = client.get("/api/v1/sync/pull", query_string={"since": 0, "limit": 1000}).get_json()
    assert {change["inspection_id"] for change in feed["changes"]} & everything == visible
    # In the reports the secretariat and every leader see the whole province (README).
    made = {side.approved for side in world.values()}  # where the recommendations were made
    reported = {row["inspection_id"]
                for row in client.get("/api/v1/reports/recommendations").get_json()}
    province = session.relation(world["ha_lang"], None) in (ADMIN, LEADER)
    assert reported & everything == (made if province else made & visible)


# -- explicit probes -----------------------------------------------------------------------------

def test_paths_never_leave_the_static_folder(client):
    root = Path(__file__).resolve().parents[2]
    secrets = [(root / "inspection" / "config.py").read_bytes()[:60],
               (root / "pyproject.toml").read_bytes()[:60], b"root:x:0:0"]
    assert client.get("/static/css/office.css", buffered=True).status_code == 200  # the route works
    for path in [
        "/static/../inspection/config.py",
        "/static/%2e%2e/inspection/config.py",
        "/static/%2e%2e%2finspection%2fconfig.py",
        "/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/static/..%5cinspection%5cconfig.py",
        "/static/%252e%252e%252finspection%252fconfig.py",
        "/static/....//inspection/config.py",
        "/static/css/../../inspection/config.py",
        "/static//etc/passwd",
        "/static/%2fetc%2fpasswd",
        "/static/css/office.css%00.py",
        "/app/../inspection/config.py",
        "/app/sw.js/../../pyproject.toml",
    ]:
        response = client.get(path, follow_redirects=True, buffered=True)
        assert response.status_code == 404, (path, response.status_code)
        assert not any(secret in response.data for secret in secrets), path


def test_export_takes_only_its_own_tables_and_formats(demo, login):
    for username in ("admin", "leader"):
        client = login(username)
        works = client.get("/overview/export/inspections.csv", buffered=True)
        assert (works.status_code == 200
                and works.data.decode("utf-8").startswith("\ufeffSố hiệu cuộc kiểm tra"))
        for path, status in [
            ("/overview/export/users.csv", 404),
            ("/overview/export/audit_events.xlsx", 404),
            ("/overview/export/things.csv", 404),
            ("/overview/export/...csv", 404),
            ("/overview/export/%2e%2e.csv", 404),
            ("/overview/export/..%2finspections.csv", 404),
            ("/overview/export/..%2f..%2finspection%2fconfig.csv", 404),
            ("/overview/export/inspections.csv.xlsx", 404),
            ("/overview/export/inspections.pdf", 422),
            ("/overview/export/inspections.py", 422),
            ("/overview/export/inspections.csv%00", 422),
            ("/overview/export/inspections.%2e%2e", 422),
        ]:
            response = client.get(path, buffered=True)
            assert response.status_code == status, (username, path, response.status_code)
            assert response.mimetype == "text/html" and b"inspection_id" not in response.data, path


def test_uploads_answer_only_to_whoever_started_them(world, login, app):
    ha_lang, an_lac = world["ha_lang"], world["an_lac"]
    clients = {name: login(name) for name in ("inspector1", "inspector3", "leader", "inspector2",
                                              "admin")}
    media = Path(app.config["MEDIA_ROOT"])
    files_before = sorted((p, p.stat().st_size) for p in media.rglob("*") if p.is_file())
    rows_before = table_rows()  # after the sign-ins, which are audited

    def send(client, upload_id, data=b"\xff\xd8\xff"):
        return client.patch(f"/api/v1/uploads/{upload_id}", data=data,
                            headers={**CHUNK_HEADERS, "X-CSRF-Token": client.csrf})

    assert clients["inspector1"].head(f"/api/v1/uploads/{ha_lang.upload}",
                                      headers=TUS).status_code == 200
    # Another trip's member, the uploader's own leader, a teammate, the secretariat:
    for name in ("inspector3", "leader", "inspector2", "admin"):
        others = [ha_lang.upload] if name == "inspector3" else [ha_lang.upload, an_lac.upload]
        for upload_id in others:
            assert clients[name].head(f"/api/v1/uploads/{upload_id}",
                                      headers=TUS).status_code == 404
            assert send(clients[name], upload_id,
                        ha_lang.upload_bytes).status_code == 404, (name, upload_id)
    for upload_id in ["..", "%2e%2e", "..%2f..%2finspection.db", "..%2F..%2F..%2Fetc%2Fpasswd",
                      f"{ha_lang.upload}%2f..%2f..%2finspection.db", f"..%2f{ha_lang.upload}",
                      ha_lang.upload.upper(), ha_lang.upload.replace("-", ""),
                      f"{{{ha_lang.upload}}}",
                      "00000000-0000-0000-0000-000000000000", "1 OR 1=1"]:
        assert clients["inspector3"].head(f"/api/v1/uploads/{upload_id}",
                                          headers=TUS).status_code == 404
        assert send(clients["inspector3"], upload_id).status_code == 404, upload_id

    assert table_rows() == rows_before
    assert sorted((p, p.stat().st_size) for p in media.rglob("*") if p.is_file()) == files_before


def what_it_says(response):
    """The JSON body, or the page's <main> (its header links back to the URL asked for)."""
    if response.is_json:
        return response.get_json()
    return re.search(r"<main>.*</main>", response.get_data(as_text=True), re.DOTALL).group(0)


def test_ids_of_another_trip_answer_exactly_like_ids_nobody_has(world, login):
    """A 404 with the same words for another trip's id and for an id that does not exist, so the
    answer tells nothing."""
    other, missing = world["an_lac"], 987654
    leader = login("leader")
    csrf = {"X-CSRF-Token": leader.csrf}

    def same_answer(real, fake, what):
        assert real.status_code == fake.status_code == 404, (what, real.status_code,
                                                             fake.status_code)
        assert what_it_says(real) == what_it_says(fake), what

    for url in ["/api/v1/inspections/{inspection}", "/api/v1/inspections/{inspection}/evaluation",
                "/api/v1/inspections/{inspection}/minutes",
                "/api/v1/inspections/{inspection}/minutes.pdf",
                "/api/v1/inspections/{inspection}/minutes/paper",
                "/api/v1/sync/pull?since=0&inspection_id={inspection}", "/inspections/{inspection}",
                "/api/v1/photos/{photo}", "/api/v1/photos/{photo}/thumb",
                "/api/v1/trips/{trip}/minutes", "/api/v1/trips/{trip}/minutes.pdf"]:
        real = url.format(inspection=other.approved, photo=other.photo, trip=other.later_trip)
        fake = url.format(inspection=missing, photo=missing, trip=missing)
        same_answer(leader.get(real, buffered=True), leader.get(fake, buffered=True), url)
    for url in ["/api/v1/inspections/{inspection}/transitions",
                "/api/v1/inspections/{inspection}/minutes",
                "/api/v1/inspections/{inspection}/minutes/sign", "/api/v1/trips/{trip}/minutes",
                "/api/v1/trips/{trip}/minutes/sign", "/inspections/{inspection}/minutes/build",
                "/inspections/{inspection}/minutes/sign",
                "/inspections/{inspection}/minutes/paper",
                "/api/v1/inspections/{inspection}/minutes/paper",
                "/inspections/{inspection}/minutes/anything",
                "/inspections/{inspection}/comments"]:
        real = url.format(inspection=other.approved, trip=other.later_trip)
        fake = url.format(inspection=missing, trip=missing)
        body = {"action": "reopen", "reason": "Bổ sung"}
        same_answer(leader.post(real, json=body, headers=csrf),
                    leader.post(fake, json=body, headers=csrf), url)
    photo = b"\xff\xd8\xff"
    same_answer(tus_create(leader, other.approved, photo), tus_create(leader, missing, photo),
                "tus creation")
    pushed = [one_op(other)["json"], one_op(other)["json"]]
    pushed[1]["ops"][0]["inspection_id"] = missing
    results = [leader.post("/api/v1/sync/push", json=body, headers=csrf).get_json()["results"][0]
               for body in pushed]
    assert [(r["status"], r["reason"], r["message"]) for r in results] == [
        ("rejected", "not_found", results[1]["message"])] * 2
    same_answer(leader.get(f"/overview/trips/{other.later_trip}/archive.zip"),
                leader.get(f"/overview/trips/{missing}/archive.zip"), "trip archive")


def test_objects_are_reached_only_through_their_own_inspection(world, login):
    """Every nested route checks that the object belongs to the inspection in the URL: an object
    of another inspection — of the leader's own trip or of another trip — is 404 (a follow-up of
    a recommendation this inspection does not follow up is refused with a message), and nothing
    changes anywhere."""
    own, other = world["ha_lang"], world["an_lac"]
    leader = login("leader")
    csrf = {"X-CSRF-Token": leader.csrf}
    nested = {"conflicts/{conflict}": {"choice": "incoming"},
              "late/{late}": {"decision": "accept"},
              "findings/{finding}/delete": {},
              "recommendations/{rec_to_update}": {"text": "Sửa kiến nghị.", "due_on": "2022-06-30"},
              "recommendations/{rec_to_delete}/delete": {}}
    before = table_rows()
    for inspection_id, objects in [(own.submitted,
                                    own),  # the leader's own trip, another inspection
                                   (own.approved,
                                    other),  # the leader's inspection, another trip's objects
                                   (other.approved,
                                    own)]:  # another trip's inspection, the leader's objects
        for path, data in nested.items():
            url = f"/inspections/{inspection_id}/" + path.format(**vars(objects))
            response = leader.post(url, data=data, headers=csrf)
            assert response.status_code == 404, (url, response.status_code)
    for inspection_id, recommendation_id, status in [
        (own.later, other.rec_to_follow_up, 302),  # another unit's recommendation
        (own.submitted, own.rec_to_follow_up, 302),  # not a later inspection of the unit
        (own.approved, own.rec_to_follow_up, 302),  # the inspection that made it
        (other.later, own.rec_to_follow_up, 404),  # another trip's inspection
    ]:
        response = leader.post(f"/inspections/{inspection_id}/follow-ups/{recommendation_id}",
                               data={"result": "done", "evidence": "Đã xem."}, headers=csrf)
        assert response.status_code == status, (inspection_id, recommendation_id,
                                                response.status_code)
        if status == 302:
            assert [category for category, _ in take_flashes(leader)] == ["error"]
    assert table_rows() == before


def test_no_redirect_leaves_the_site(demo, client, login):
    """Switching language, signing in and reporting a recommendation done redirect within this
    site whatever `next`, `back` or the Referer say."""
    unitrep = login("unitrep")
    co_ngan = db.session.scalars(select(Inspection).join(Inspection.unit)
                                 .where(AdminUnit.code == "01567")).one()
    recommendation = Recommendation(inspection_id=co_ngan.id, unit_id=co_ngan.unit_id,
                                    text="Niêm yết công khai thủ tục hành chính.")
    db.session.add(recommendation)
    db.session.commit()

    def stays_here(response, target):
        assert response.status_code in (301, 302, 303), (target, response.status_code)
        location = response.headers["Location"]
        parts = urlsplit(location)
        assert parts.scheme == "" and parts.netloc == "" and location.startswith("/"), \
            (target, location)
        assert not location.startswith("//") and "\\" not in location, (target, location)

    for target in ["https://evil.example/", "//evil.example/", "/\\evil.example",
                   "\\\\evil.example",
                   "/\t/evil.example", "https:evil.example", "javascript:alert(1)",
                   "/%2F%2Fevil.example",
                   " //evil.example", "/overview/../..//evil.example"]:
        stays_here(client.get("/lang/en", query_string={"next": target},
                              headers={"Referer": target}), target)
        stays_here(client.get("/lang/vi", headers={"Referer": target}), target)
        stays_here(client.post("/login", query_string={"next": target},
                               data={"username": "unitrep", "password": PASSWORD}), target)
        stays_here(unitrep.post(f"/overview/recommendations/{recommendation.id}/done",
                                data={"back": target},
                                headers={"X-CSRF-Token": unitrep.csrf}), target)
