"""Inspections: list, read, and move through the state machine."""
from flask.views import MethodView
from flask_login import current_user

from ..extensions import db
from ..models import Inspection
from ..schemas.evaluation import EvaluationSchema
from ..schemas.inspections import InspectionSchema, TransitionSchema
from ..services.access import get_visible_inspection, inspections_query
from ..services.evaluation import evaluate_inspection
from ..services.self_assessment import self_score
from ..services.workflow import transition_inspection
from .guards import login_required_api
from .parsing import Blueprint
from .transactions import commits

blp = Blueprint("api_inspections", __name__, url_prefix="/api/v1/inspections",
                description="Inspections of units")


@blp.route("")
class Inspections(MethodView):
    @blp.response(200, InspectionSchema(many=True))
    @blp.alt_response(401, schema="Error")
    @login_required_api
    def get(self):
        """Inspections the signed-in user may see"""
        return db.session.scalars(inspections_query(current_user)).all()


@blp.route("/<int:inspection_id>")
class InspectionResource(MethodView):
    @blp.response(200, InspectionSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    @login_required_api
    def get(self, inspection_id):
        """One inspection"""
        return get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))


@blp.route("/<int:inspection_id>/transitions")
class Transitions(MethodView):
    @login_required_api  # first: a signed-out request is 401 whatever its body
    @blp.arguments(TransitionSchema)
    @blp.response(200, InspectionSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error", description=(
        "Not allowed in this state, approval blockers (open conflicts, failing error rules), "
        "or code `unanswered`: criteria not assessed, their codes in `errors.items` "
        "(repeat with `confirm_unanswered: true` and a `reason`)"))
    @blp.alt_response(422, schema="Error")
    @commits
    def post(self, data, inspection_id):
        """Start, submit, approve or reopen (with a reason) an inspection

        Approving while criteria are not assessed answers 409 with code `unanswered` and their
        codes in `errors.items`, unless `confirm_unanswered` is true and a `reason` is given.
        """
        inspection = get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))
        transition_inspection(inspection, data["action"], current_user, data["reason"],
                              confirm_unanswered=data["confirm_unanswered"])
        return inspection


@blp.route("/<int:inspection_id>/evaluation")
class Evaluation(MethodView):
    @blp.response(200, EvaluationSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    @login_required_api
    def get(self, inspection_id):
        """Score, consistency checks, indicators and suggested recommendations"""
        inspection = get_visible_inspection(current_user, db.session.get(Inspection, inspection_id))
        return {**evaluate_inspection(inspection), "self_score": self_score(inspection)}
