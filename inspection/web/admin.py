"""Administration pages for the secretariat: accounts, units, plans and trips."""
from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select

from ..errors import ServiceError, ValidationFailed
from ..extensions import db
from ..models import (
    AdminUnit,
    ChecklistTemplate,
    ChecklistUpload,
    ChecklistVersion,
    Inspection,
    Plan,
    Role,
    Trip,
    UnitLevel,
    User,
)
from ..services.accounts import (
    activate_user,
    create_user,
    deactivate_user,
    end_all_sessions,
    set_password,
    update_user,
)
from ..services.certificates import certificate_of, register_certificate, withdraw_certificate
from ..services.checklists import (
    XLSX_TYPE,
    export_workbook,
    kept_upload_bytes,
    publish_version,
    upload_checklist,
    workbook_filename,
)
from ..services.planning import (
    create_plan,
    create_trip,
    plan_is_locked,
    trip_is_locked,
    update_plan,
    update_trip,
)
from ..services.text import clean_text
from ..services.units import save_unit, units_by_level
from ..sessions import keep_session
from .actions import run_action
from .forms import form_id, read_certificate_upload

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def admins_only():
    """Every administration page is for administrators only (403 otherwise)."""
    if current_user.role != Role.admin:
        abort(403)


def _errors(exc: ServiceError) -> dict:
    """The per-field errors of a refusal, for the form shown again."""
    return exc.errors or {}


def _by_ids(model, ids):
    wanted = [n for n in map(form_id, ids) if n is not None]
    return db.session.scalars(select(model).where(model.id.in_(wanted))).all() if wanted else []


@bp.route("/users", methods=["GET", "POST"])
def users():
    """Every account (active or not), and the form to create one."""
    if request.method == "POST":
        form = request.form
        unit = db.session.get(AdminUnit, form_id(form.get("unit_id"), 0))
        return run_action(
            lambda: create_user(form.get("username", ""), form.get("password", ""),
                                form.get("full_name", ""), form.get("role", ""),
                                form.get("position", ""), unit, by=current_user),
            lambda user: _("Đã tạo tài khoản %(name)s.", name=user.username),
            url_for("admin.users"),
            refused=lambda exc: _users_page(_errors(exc), form))
    return _users_page()


def _users_page(errors=None, form=None):
    errors, form = errors or {}, form or {}
    users = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", users=users, units=units_by_level(),
                           roles=list(Role), errors=errors, form=form), (422 if errors else 200)


def _account(user_id: int) -> User:
    return db.session.get(User, user_id) or abort(404)


def _account_page(user: User, errors=None, form=None, status: int = 200):
    return render_template("admin/user.html", account=user, units=units_by_level(),
                           roles=list(Role), errors=errors or {}, form=form or {}), status


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_page(user_id: int):
    """One account: edit name, position, role and unit; status, password, sessions, certificates."""
    user = _account(user_id)
    if request.method == "GET":
        return _account_page(user)
    form = request.form
    unit = db.session.get(AdminUnit, form_id(form.get("unit_id"), 0))
    return run_action(
        lambda: update_user(user, current_user, form.get("full_name", ""), form.get("position", ""),
                            form.get("role", ""), unit),
        lambda changed: _(
            "Đã lưu tài khoản %(name)s; các phiên đăng nhập của tài khoản đã kết thúc.",
            name=user.username) if changed else _("Không có gì thay đổi."),
        url_for("admin.user_page", user_id=user.id),
        refused=lambda exc: _account_page(user, _errors(exc), form, exc.status))


def _account_action(user: User, action, message: str):
    """Run a lifecycle action on the account: back to its page with a message, or the page with
    the refusal and its status."""
    return run_action(action, message, url_for("admin.user_page", user_id=user.id),
                      refused=lambda exc: _account_page(user, _errors(exc), {}, exc.status))


@bp.post("/users/<int:user_id>/deactivate")
def deactivate(user_id: int):
    """Deactivate an account (it can no longer sign in)."""
    user = _account(user_id)
    return _account_action(user, lambda: deactivate_user(user, current_user),
                           _("Đã khóa tài khoản %(name)s; mọi phiên đăng nhập đã kết thúc.",
                             name=user.username))


@bp.post("/users/<int:user_id>/activate")
def activate(user_id: int):
    """Activate an account again."""
    user = _account(user_id)
    return _account_action(user, lambda: activate_user(user, current_user),
                           _("Đã mở lại tài khoản %(name)s; người dùng cần đăng nhập lại.",
                             name=user.username))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    """Set a new password for an account."""
    user = _account(user_id)
    return _account_action(user,
                           lambda: set_password(user, request.form.get("password", ""),
                                                current_user),
                           _("Đã đặt mật khẩu mới cho %(name)s; mọi phiên đăng nhập đã kết thúc.",
                             name=user.username))


@bp.post("/users/<int:user_id>/sessions")
def end_sessions(user_id: int):
    """End every session of an account."""
    user = _account(user_id)

    def end():
        end_all_sessions(user, current_user)
        if user.id == current_user.id:
            keep_session(user)
    return _account_action(user, end,
                           _("Đã đăng xuất %(name)s khỏi mọi thiết bị.", name=user.username))


@bp.post("/users/<int:user_id>/certificates")
def add_certificate(user_id: int):
    """Register a signing certificate for an account."""
    user = _account(user_id)
    return _account_action(
        user,
        lambda: register_certificate(user,
                                     read_certificate_upload(request.files.get("certificate")),
                                           current_user),
        _("Đã đăng ký chứng thư số cho %(name)s.", name=user.username))


@bp.post("/users/<int:user_id>/certificates/<int:certificate_id>/withdraw")
def withdraw(user_id: int, certificate_id: int):
    """Withdraw a signing certificate of an account."""
    user = _account(user_id)
    row = certificate_of(user, certificate_id) or abort(404)
    return _account_action(user, lambda: withdraw_certificate(row, current_user),
                           _("Đã gỡ chứng thư số; chữ ký mới bằng chứng thư "
                             "này không còn được nhận."))


@bp.route("/units", methods=["GET", "POST"])
def units():
    """The administrative units, and adding or changing one."""
    if request.method == "POST":
        form = request.form

        def save():
            try:
                return save_unit({k: form.get(k, "") for k in
                                  ("code", "name", "kind", "level", "parent_code", "valid_from",
                                   "valid_to", "merged_from")})
            except ValueError as exc:  # save_unit gives its reason as a ValueError
                text = _("Không lưu được đơn vị: %(reason)s", reason=str(exc))
                raise ValidationFailed(text, text) from exc

        return run_action(save, lambda saved: _("Đã lưu %(unit)s (%(outcome)s).",
                                                unit=saved[0].full_name, outcome=saved[1]),
                          url_for("admin.units"), refused=lambda exc: _units_page(form, 422))
    return _units_page({}, 200)


def _units_page(form, status: int):
    on = request.args.get("on", "")
    level = request.args.get("level", "")
    q = clean_text(request.args.get("q", ""), single_line=True).strip()
    query = select(AdminUnit).order_by(AdminUnit.valid_from, AdminUnit.level, AdminUnit.code)
    try:
        if on:
            query = (AdminUnit.valid_on_query(date.fromisoformat(on))
                     .order_by(AdminUnit.level, AdminUnit.code))
    except ValueError:
        flash(_("Ngày lọc không hợp lệ (YYYY-MM-DD)."), "error")
    if level in UnitLevel.__members__:
        query = query.where(AdminUnit.level == UnitLevel(level))
    if q:
        query = query.where(or_(AdminUnit.name.contains(q), AdminUnit.code == q))
    return render_template("admin/units.html", units=db.session.scalars(query).all(),
                           levels=list(UnitLevel),
                           filters={"on": on, "level": level, "q": q}, form=form), status


@bp.route("/plans", methods=["GET", "POST"])
def plans():
    """The inspection plans, and issuing one."""
    if request.method == "POST":
        form = request.form
        province = db.session.get(AdminUnit, form_id(form.get("province_id"), 0))
        return run_action(
            lambda: create_plan(form.get("number", ""), form.get("title", ""),
                                form.get("issuer", ""), form.get("issued_on", ""),
                                form.get("year", ""), province, by=current_user),
            lambda plan: _("Đã tạo kế hoạch %(number)s.", number=plan.number),
            url_for("admin.plans"),
            refused=lambda exc: _plans_page(_errors(exc), form))
    return _plans_page({}, {})


def _plans_page(errors, form):
    provinces = _provinces()
    plans = db.session.scalars(select(Plan).order_by(Plan.issued_on.desc())).all()
    return render_template("admin/plans.html", plans=plans,
                           provinces=provinces, errors=errors, form=form), (422 if errors else 200)


@bp.route("/trips", methods=["GET", "POST"])
def trips():
    """The trips of the plans, and setting one up with its team."""
    if request.method == "POST":
        form = request.form
        plan = db.session.get(Plan, form_id(form.get("plan_id"), 0))
        leader = db.session.get(User, form_id(form.get("leader_id"), 0))

        def create():
            if plan is None:
                raise ServiceError("Cần chọn kế hoạch.", "Choose a plan.",
                                   {"plan_id": [_("Cần chọn kế hoạch.")]})
            return create_trip(plan, form.get("name", ""), form.get("starts_on", ""),
                               form.get("ends_on", ""), leader,
                               _by_ids(User, form.getlist("member_ids")),
                               _by_ids(AdminUnit, form.getlist("unit_ids")), form.get("place", ""),
                               form.get("decision", ""), by=current_user,
                               decision_number=form.get("decision_number", ""),
                               decision_date=form.get("decision_date", ""),
                               self_assessment_due=form.get("self_assessment_due", ""),
                               secretary=db.session.get(User, form_id(form.get("secretary_id"),
                                                                      0)))

        return run_action(create,
                          lambda trip: _("Đã tạo đợt kiểm tra “%(name)s”.", name=trip.name),
                          url_for("admin.trips"),
                          refused=lambda exc: _trips_page(_errors(exc), form))
    return _trips_page({}, {})


def _trips_page(errors, form):
    people = _team_candidates()
    units = _visitable_units()
    trips = db.session.scalars(select(Trip).order_by(Trip.starts_on.desc())).all()
    plans = db.session.scalars(select(Plan).order_by(Plan.issued_on.desc())).all()
    return render_template("admin/trips.html", trips=trips, plans=plans, people=people,
                           units=units, errors=errors, form=form), (422 if errors else 200)


def _team_candidates() -> list[User]:
    return db.session.scalars(select(User).where(User.role.in_([Role.leader, Role.inspector]))
                              .order_by(User.full_name)).all()


def _visitable_units() -> list[AdminUnit]:
    return db.session.scalars(select(AdminUnit).where(AdminUnit.level != UnitLevel.province)
                              .order_by(AdminUnit.valid_from.desc(), AdminUnit.level,
                                        AdminUnit.name)).all()


def _provinces() -> list[AdminUnit]:
    return db.session.scalars(
        select(AdminUnit).where(AdminUnit.level == UnitLevel.province)).all()


@bp.route("/plans/<int:plan_id>", methods=["GET", "POST"])
def plan_page(plan_id: int):
    """Correct a plan until minutes citing it are signed (audited)."""
    plan = db.session.get(Plan, plan_id) or abort(404)
    if request.method == "POST":
        form = request.form
        province = db.session.get(AdminUnit, form_id(form.get("province_id"), 0))
        return run_action(
            lambda: update_plan(plan, current_user, form.get("number", ""), form.get("title", ""),
                                form.get("issuer", ""), form.get("issued_on", ""),
                                form.get("year", ""), province),
            lambda changes: (_("Đã lưu kế hoạch %(number)s.", number=plan.number) if changes
                             else _("Không có gì thay đổi.")),
            url_for("admin.plan_page", plan_id=plan.id),
            refused=lambda exc: _plan_page(plan, _errors(exc), form, exc.status))
    return _plan_page(plan, {}, {}, 200)


def _plan_page(plan: Plan, errors: dict, form, status: int):
    form = form or {"number": plan.number, "title": plan.title, "issuer": plan.issuer,
                    "issued_on": plan.issued_on.isoformat(), "year": str(plan.year),
                    "province_id": str(plan.province_id or "")}
    return render_template("admin/plan.html", plan=plan, provinces=_provinces(), errors=errors,
                           form=form, locked=plan_is_locked(plan)), status


@bp.route("/trips/<int:trip_id>", methods=["GET", "POST"])
def trip_page(trip_id: int):
    """Correct a trip, its team (leader, members, secretary) and the team's decision (number,
    date) until its minutes are signed (audited)."""
    trip = db.session.get(Trip, trip_id) or abort(404)
    if request.method == "POST":
        form = request.form
        return run_action(
            lambda: update_trip(
                trip, current_user, name=form.get("name", ""),
                starts_on=form.get("starts_on", ""), ends_on=form.get("ends_on", ""),
                place=form.get("place", ""), decision=form.get("decision", ""),
                decision_number=form.get("decision_number", ""),
                decision_date=form.get("decision_date", ""),
                self_assessment_due=form.get("self_assessment_due", ""),
                leader=db.session.get(User, form_id(form.get("leader_id"), 0)),
                members=_by_ids(User, form.getlist("member_ids")),
                secretary=db.session.get(User, form_id(form.get("secretary_id"), 0)),
                add_units=_by_ids(AdminUnit, form.getlist("unit_ids"))),
            lambda changes: (_("Đã lưu đợt kiểm tra “%(name)s”.", name=trip.name) if changes
                             else _("Không có gì thay đổi.")),
            url_for("admin.trip_page", trip_id=trip.id),
            refused=lambda exc: _trip_page(trip, _errors(exc), form, exc.status))
    return _trip_page(trip, {}, None, 200)


def _trip_page(trip: Trip, errors: dict, form, status: int):
    if not form:
        roles = {m.user_id: m.role.value for m in trip.members}
        form = {"name": trip.name, "starts_on": trip.starts_on.isoformat(),
                "ends_on": trip.ends_on.isoformat(), "place": trip.place,
                "decision": trip.decision, "decision_number": trip.decision_number,
                "decision_date": trip.decision_date.isoformat() if trip.decision_date else "",
                "self_assessment_due": (trip.self_assessment_due.isoformat()
                                        if trip.self_assessment_due else ""),
                "leader_id": next((str(k) for k, v in roles.items() if v == "leader"), ""),
                "secretary_id": next((str(k) for k, v in roles.items() if v == "secretary"), ""),
                "member_ids": [str(k) for k, v in roles.items() if v == "member"]}
    else:
        form = {**form.to_dict(), "member_ids": form.getlist("member_ids"),
                "unit_ids": form.getlist("unit_ids")}
    visited = {i.unit_id for i in trip.inspections}
    units = [u for u in _visitable_units()
             if u.id not in visited and u.is_valid_on(trip.starts_on)]
    return render_template("admin/trip.html", trip=trip, people=_team_candidates(), errors=errors,
                           form=form, locked=trip_is_locked(trip), units=units), status


@bp.route("/checklists", methods=["GET", "POST"])
def checklists():
    """Templates and their versions; import a new version from an XLSX workbook or JSON."""
    if request.method == "POST":
        upload = request.files.get("document")
        if upload is None or not upload.filename:
            flash(_("Hãy chọn tệp bảng tính (XLSX) hoặc JSON của mẫu danh mục."), "error")
        else:
            try:
                data = upload.read()
            finally:
                upload.close()  # a big upload is spooled to a temporary file: let it go now
            # Kept whatever its outcome (a refused upload is listed with its problems).
            return run_action(lambda: upload_checklist(data, upload.filename, current_user), None,
                              _checklist_uploaded)
    return render_template("admin/checklists.html", templates=_templates(), upload=None,
                           uploads=_recent_uploads())


def _checklist_uploaded(kept):
    if kept.version is not None and kept.status.value == "imported":
        flash(_("Đã nhập %(code)s phiên bản %(version)s (bản nháp).",
                code=kept.version.template.code, version=kept.version.version)
              if not kept.problems else _("Phiên bản này đã có, không thay đổi."), "success")
        return redirect(url_for("admin.checklist_version", version_id=kept.version.id))
    return render_template("admin/checklists.html", templates=_templates(),
                           upload=kept, uploads=_recent_uploads()), 422


def _templates():
    return db.session.scalars(select(ChecklistTemplate).order_by(ChecklistTemplate.code)).all()


def _recent_uploads():
    return db.session.scalars(select(ChecklistUpload)
                              .order_by(ChecklistUpload.uploaded_at.desc(),
                                        ChecklistUpload.id.desc()).limit(10)).all()


@bp.get("/checklists/uploads/<int:upload_id>")
def checklist_upload(upload_id: int):
    """A kept upload: what became of it, and every problem that refused it."""
    kept = db.session.get(ChecklistUpload, upload_id) or abort(404)
    return render_template("admin/checklist_upload.html", upload=kept)


@bp.get("/checklists/uploads/<int:upload_id>/file")
def checklist_upload_file(upload_id: int):
    """The file exactly as it was uploaded (always as a download, never shown in the page)."""
    kept = db.session.get(ChecklistUpload, upload_id) or abort(404)
    try:
        data = kept_upload_bytes(kept)
    except ServiceError:
        abort(404)
    return Response(data, mimetype="application/octet-stream", headers={
        "Content-Disposition": _attachment(kept.filename), "Cache-Control": "no-store"})


@bp.get("/checklists/<int:version_id>/workbook.xlsx")
def checklist_workbook(version_id: int):
    """A version as an XLSX workbook, to edit and import as a new version."""
    version = db.session.get(ChecklistVersion, version_id) or abort(404)
    try:
        data = export_workbook(version)
    except ServiceError as exc:
        flash(exc.message(str(get_locale())), "error")
        return redirect(url_for("admin.checklist_version", version_id=version.id))
    return Response(data, mimetype=XLSX_TYPE, headers={
        "Content-Disposition": _attachment(workbook_filename(version)),
        "Cache-Control": "no-store"})


def _attachment(filename: str) -> str:
    """A Content-Disposition for a download: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    from urllib.parse import quote

    ascii_name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-._") else "_"
                         for ch in filename) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"


@bp.get("/checklists/<int:version_id>")
def checklist_version(version_id: int):
    """One checklist version: its document, and how many inspections use it."""
    version = db.session.get(ChecklistVersion, version_id) or abort(404)
    in_use = db.session.scalar(select(func.count()).select_from(Inspection)
                               .where(Inspection.checklist_version_id == version.id))
    return render_template("admin/checklist_version.html", version=version, doc=version.document,
                           in_use=in_use)


@bp.post("/checklists/<int:version_id>/publish")
def publish_checklist(version_id: int):
    """Publish a checklist version for new inspections."""
    version = db.session.get(ChecklistVersion, version_id) or abort(404)
    return run_action(lambda: publish_version(version, by=current_user),
                      _("Đã ban hành phiên bản %(version)s; từ nay không thể sửa.",
                        version=version.version),
                      url_for("admin.checklist_version", version_id=version.id))
