"""Sync for the field app: push a device's ops, pull the change feed (DESIGN §4)."""
import marshmallow as ma
from flask import jsonify, request
from flask.views import MethodView
from flask_login import current_user
from flask_smorest import abort

from ..errors import language
from ..schemas.sync import (
    MAX_OPS,
    PullArgsSchema,
    PullSchema,
    PushResultSchema,
    PushSchema,
    TooManyOps,
    load_push,
)
from ..services.feed import pull_changes
from ..services.sync import apply_ops
from ..services.text import check_text
from .guards import login_required_api
from .parsing import Blueprint
from .transactions import commits
from .uploads import with_photo_urls

blp = Blueprint("api_sync", __name__, url_prefix="/api/v1/sync",
                description="Offline sync: push ops from a device, pull the change feed")


def _too_many_ops(count: int) -> None:
    if language() == "en":
        message = (f"Too many ops in one push: {count} (at most {MAX_OPS}); "
                   f"send them in batches of up to {MAX_OPS}.")
    else:
        message = (f"Quá nhiều thao tác trong một lần gửi: {count} (tối đa {MAX_OPS}); "
                   f"hãy gửi thành nhiều lần, mỗi lần không quá {MAX_OPS}.")
    abort(413, message=message, code="too_many_ops")


def _invalid_body() -> None:
    message = ("Nội dung yêu cầu phải là một đối tượng JSON hợp lệ."
               if language() != "en" else "The body must be a valid JSON object.")
    abort(422, message=message, errors={"json": ["Invalid JSON body."]})


@blp.route("/push")
class Push(MethodView):
    @login_required_api
    @blp.doc(requestBody={"required": True,
                          "content": {"application/json": {"schema": PushSchema}}})
    @blp.response(200, PushResultSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(413, schema="Error", description="More than 500 ops")
    @blp.alt_response(422, schema="Error", description="Malformed body")
    @commits
    def post(self):
        """Apply a device's ops, one result per op in the same order

        Op types: `observation.set`, `photo.caption`, `photo.delete` (DESIGN §4).

        Status per op: `applied`, `merged` (older base, no field clash), `conflict` (a field
        clashed: both values kept as a Conflict, the other fields applied — except the fields
        of the same judgement, result, points and note, which wait in the Conflict: `held`),
        `duplicate` (op_id seen before: nothing changes) or `rejected` with `reason`
        `not_found`, `forbidden`, `unknown_item`, `invalid_field` (with `message`), `locked`
        (the inspection is approved or signed: the op is kept as a late submission for the
        leader), `photo_not_found` or `photo_locked` (photos are final once approved). One bad
        op never fails the batch; a malformed body is 422; more than 500 ops is 413.
        """
        # Parsed here rather than with @blp.arguments: the hand-checked fast path of load_push
        # keeps validation out of the way of throughput (see scripts/bench_sync.py).
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            _invalid_body()
        try:
            data = load_push(body)
        except ma.ValidationError as exc:
            abort(422, errors={"json": exc.messages})
        except TooManyOps as exc:
            _too_many_ops(exc.count)
        check_text(data["device_id"], "device_id")  # a bad op is rejected alone; a bad device not
        results = apply_ops(current_user._get_current_object(), data["device_id"], data["ops"])
        # Already in the documented shape: no second pass through the response schema.
        return jsonify({"results": results})


@blp.route("/pull")
class Pull(MethodView):
    @login_required_api
    @blp.arguments(PullArgsSchema, location="query")
    @blp.response(200, PullSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    def get(self, args):
        """Changes after a cursor, from any author, in the inspections the user may see

        Ask again with `since` = the returned `cursor` while `more` is true.
        """
        feed = pull_changes(current_user, args["since"], args["inspection_id"], args["limit"])
        for change in feed["changes"]:
            if change["kind"] == "photo":
                change["data"] = with_photo_urls(change["data"])
        return feed
