"""What the field app downloads to work offline."""
from flask.views import MethodView
from flask_login import current_user

from ..schemas.sync import AssignmentsSchema
from ..services.sync import assignments_for
from .guards import login_required_api
from .parsing import Blueprint
from .self_assessment import evidence_url
from .uploads import with_photo_urls

blp = Blueprint("api_assignments", __name__, url_prefix="/api/v1/assignments",
                description="The inspections a team member works on, with all they need offline")


@blp.route("")
class Assignments(MethodView):
    @login_required_api
    @blp.response(200, AssignmentsSchema)
    @blp.alt_response(401, schema="Error")
    def get(self):
        """Inspections of the user's trips, with checklists, team, observations, photos, and
        open recommendations from earlier visits of the unit (or of the units it absorbed)"""
        result = assignments_for(current_user)
        for assignment in result["assignments"]:
            assignment["photos"] = [with_photo_urls(photo) for photo in assignment["photos"]]
            claims = assignment["self_assessment"]
            if claims is not None:
                inspection_id = assignment["inspection"]["id"]
                claims["evidence"] = [{**e, "url": evidence_url(inspection_id, e["id"])}
                                      for e in claims["evidence"]]
        return result
