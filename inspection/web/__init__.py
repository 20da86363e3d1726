"""Server-rendered office pages: sign-in, home per role, inspection pages and administration."""
from flask import Flask
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _

from ..localtime import format_date, format_datetime
from .i18n import N_

ROLE_LABELS = {
    "admin": N_("Quản trị"),
    "leader": N_("Trưởng đoàn"),
    "inspector": N_("Thành viên đoàn"),
    "unitrep": N_("Đại diện đơn vị"),
}
TRIP_ROLE_LABELS = {"leader": N_("Trưởng đoàn"), "member": N_("Thành viên"),
                    "secretary": N_("Thư ký")}
LEVEL_LABELS = {"province": N_("Tỉnh"), "district": N_("Huyện"), "commune": N_("Xã")}
STATE_LABELS = {
    "planned": N_("Đã lên kế hoạch"),
    "in_progress": N_("Đang kiểm tra"),
    "submitted": N_("Đã gửi trưởng đoàn"),
    "approved": N_("Đã duyệt"),
    "signed": N_("Đã ký"),
}
ACTION_LABELS = {
    "start": N_("Bắt đầu kiểm tra"),
    "submit": N_("Gửi trưởng đoàn"),
    "approve": N_("Duyệt kết quả"),
    "sign": N_("Đánh dấu đã ký"),
    "reopen": N_("Mở lại"),
    "login": N_("Đăng nhập"),
    "create": N_("Tạo mới"),
}


def init_web(app: Flask) -> None:
    """Register the page blueprints and the template helpers they share."""
    from . import (
        account,
        admin,
        auth,
        checklist_editor,
        fieldapp,
        followup,
        main,
        minutes,
        overview,
        review,
        self_assessment,
    )

    for module in (auth, main, account, admin, checklist_editor, review, minutes, fieldapp,
                   followup, overview, self_assessment):
        app.register_blueprint(module.bp)
    app.view_functions["static"] = fieldapp.static_file  # JavaScript and CSS minified

    @app.context_processor
    def helpers():
        return {
            "current_locale": str(get_locale() or "vi"),
            "role_label": lambda role: _(ROLE_LABELS.get(str(role), str(role))),
            "state_label": lambda state: _(STATE_LABELS.get(str(state), str(state))),
            "action_label": lambda action: _(ACTION_LABELS.get(action, action)),
            "trip_role_label": lambda role: _(TRIP_ROLE_LABELS.get(str(role), str(role))),
            "level_label": lambda level: _(LEVEL_LABELS.get(str(level), str(level))),
        }

    @app.template_global()
    def loc(record, field: str):
        """The record's field in the page's language: title_vi or title_en (Vietnamese fallback)."""
        get = record.get if isinstance(record, dict) else lambda key: getattr(record, key, None)
        return (str(get_locale()) == "en" and get(f"{field}_en")) or get(f"{field}_vi") or ""

    @app.template_global()
    def describe_activity(events):
        """Audit events with their sentence in the page's language (``web.activity``)."""
        from .activity import describe

        return describe(list(events))

    @app.template_global()
    def class_label(cls) -> str:
        """A class (xếp loại) in the page's language: “Yếu” or “Poor” (also inside imported macros,
        which do not see the context's ``current_locale``)."""
        if not cls:
            return ""
        return ((str(get_locale()) == "en" and cls.get("en"))
                or cls.get("vi") or cls.get("code") or "")

    @app.template_filter("num")
    def number(value, decimals: int = 1):
        """A number in the page's language: 1.081 and 86,5 in Vietnamese; 1,081 and 86.5 in
        English."""
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * decimals if decimals and value != int(value) else "")
        return format_decimal(value, format=pattern)

    # Every date on a page goes through these two (one time zone: ``inspection.localtime``).
    app.add_template_filter(format_date, "vndate")
    app.add_template_filter(format_datetime, "vndatetime")
