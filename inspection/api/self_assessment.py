"""The unit's self-assessment before the visit: read it, set a criterion's claim, submit and
withdraw it, and open its evidence files (uploaded through /uploads with kind=evidence)."""
from __future__ import annotations

from flask import send_file, url_for
from flask.views import MethodView
from flask_login import current_user

from ..schemas.self_assessment import ClaimInSchema, SelfAssessmentSchema
from ..services import self_assessment as service
from ..services.storage import get_storage
from .guards import login_required_api
from .parsing import Blueprint
from .transactions import commits

blp = Blueprint("api_self_assessment", __name__, url_prefix="/api/v1/inspections",
                description="The unit's self-assessment (tự đánh giá) with evidence files")


def evidence_url(inspection_id: int, evidence_id: int) -> str:
    """Where an evidence file is downloaded."""
    return url_for("api_self_assessment.EvidenceFile", inspection_id=inspection_id,
                   evidence_id=evidence_id)


def with_urls(inspection_id: int, data: dict) -> dict:
    """The self-assessment with the URL of every evidence file."""
    def url(evidence: dict) -> dict:
        return {**evidence, "url": url_for("api_self_assessment.EvidenceFile",
                                           inspection_id=inspection_id,
                                           evidence_id=evidence["id"])}

    for item in data["items"]:
        item["evidence"] = [url(e) for e in item["evidence"]]
        if item.get("explanation_request"):
            request = item["explanation_request"]
            request["evidence"] = [url(e) for e in request["evidence"]]
    return data


def _answer(inspection) -> dict:
    return with_urls(inspection.id, service.view(current_user, inspection))


@blp.route("/<int:inspection_id>/self-assessment")
class SelfAssessmentResource(MethodView):
    @blp.response(200, SelfAssessmentSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error", description="No such inspection, or not yours to see")
    @login_required_api
    def get(self, inspection_id):
        """The self-assessment: state, deadline, claims with evidence, self-score"""
        return _answer(service.readable_inspection(current_user, inspection_id))


@blp.route("/<int:inspection_id>/self-assessment/<item_code>")
class ClaimResource(MethodView):
    @login_required_api
    @blp.arguments(ClaimInSchema)
    @blp.response(200, SelfAssessmentSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error", description="Not the unit's representative")
    @blp.alt_response(404, schema="Error", description="No such inspection (or not yours), or "
                      "an evidence id that is not this self-assessment's")
    @blp.alt_response(409, schema="Error", description="The visit started, the self-assessment "
                      "is submitted (withdraw it first) or the deadline passed")
    @blp.alt_response(422, schema="Error", description="Unknown criterion or a bad value")
    @commits
    def put(self, data, inspection_id, item_code):
        """Set the unit's claim for one criterion (result, points, value, text, note,
        explanation, evidence ids); an empty claim is removed"""
        inspection = service.readable_inspection(current_user, inspection_id)
        evidence = data.pop("evidence", [])
        service.save_claim(current_user, inspection, item_code, data, evidence)
        return _answer(inspection)


@blp.route("/<int:inspection_id>/self-assessment/submit")
class Submit(MethodView):
    @login_required_api
    @blp.response(200, SelfAssessmentSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error", description="Already submitted, the visit started or "
                      "the deadline passed")
    @blp.alt_response(422, schema="Error", description="No claim yet")
    @commits
    def post(self, inspection_id):
        """Submit the self-assessment to the team"""
        inspection = service.readable_inspection(current_user, inspection_id)
        service.submit(current_user, inspection)
        return _answer(inspection)


@blp.route("/<int:inspection_id>/self-assessment/withdraw")
class Withdraw(MethodView):
    @login_required_api
    @blp.response(200, SelfAssessmentSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(403, schema="Error")
    @blp.alt_response(404, schema="Error")
    @blp.alt_response(409, schema="Error", description="Not submitted, the visit started or the "
                      "deadline passed")
    @commits
    def post(self, inspection_id):
        """Withdraw a submitted self-assessment to correct it"""
        inspection = service.readable_inspection(current_user, inspection_id)
        service.withdraw(current_user, inspection)
        return _answer(inspection)


@blp.route("/<int:inspection_id>/self-assessment/evidence/<int:evidence_id>")
class EvidenceFile(MethodView):
    @login_required_api
    @blp.response(200, description="The file as uploaded", content_type="application/octet-stream")
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(404, schema="Error")
    def get(self, inspection_id, evidence_id):
        """An evidence file of the self-assessment"""
        evidence = service.get_evidence(current_user, inspection_id, evidence_id)
        path = get_storage().path_for(evidence.sha256)
        response = send_file(path, mimetype=evidence.content_type, as_attachment=True,
                             download_name=evidence.filename, conditional=True,
                             etag=evidence.sha256, max_age=None)
        response.headers["Cache-Control"] = "private, no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response
