"""Read-only province reports (DESIGN §4): ranking, indicators, inspection counts and the
recommendations to follow up; the same figures as the overview pages."""
import json
from datetime import date

import marshmallow as ma
from flask import Response
from flask.views import MethodView
from flask_login import current_user

from ..schemas.reports import (
    IndicatorQuerySchema,
    IndicatorSummarySchema,
    OverviewQuerySchema,
    OverviewSchema,
    RankingQuerySchema,
    RankingRowSchema,
    RecommendationQuerySchema,
    RecommendationRowSchema,
)
from ..services import reports
from .guards import login_required_api
from .parsing import Blueprint

blp = Blueprint("api_reports", __name__, url_prefix="/api/v1/reports",
                description="Province reports: ranking, indicators, inspections, "
                            "recommendations (read-only)")


def _plain(value):
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _fast_json(rows: list[dict], headers: dict) -> Response:
    """Rows already shaped like the response schema, encoded directly: a national ranking has
    3,321 rows, which marshmallow would take seconds to serialise. The schema documents them."""
    return Response(json.dumps(rows, default=_plain, ensure_ascii=False, separators=(",", ":")),
                    200, headers, mimetype="application/json")


def _report_headers(choice: dict) -> dict:
    """The year, level and era the report used (defaults filled in)."""
    return {"X-Report-" + key.title(): str(choice[key]) for key in ("year", "level", "era")}


@blp.route("/ranking")
class Ranking(MethodView):
    @login_required_api
    @blp.arguments(RankingQuerySchema(empty_means_all=False), location="query", as_kwargs=True,
                   unknown=ma.RAISE)
    @blp.response(200, RankingRowSchema(many=True), headers={
        "X-Report-Year": {"description": "Year used", "schema": {"type": "integer"}},
        "X-Report-Level": {"description": "Level used", "schema": {"type": "string"}},
        "X-Report-Era": {"description": "Era used", "schema": {"type": "string"}}})
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(422, schema="Error")
    def get(self, year=None, level=None, era=None):
        """Units ranked by percent for a year, level and era, with class, sections, previous result

        Defaults: the latest year with approved results, communes, and the era of that year's
        latest inspections. Only approved or signed inspections count. `previous` follows the
        2025 mergers back: a commune with no earlier inspection of its own takes the mean of the
        communes it absorbed (listed in `previous_detail`).
        """
        choice = reports.resolve_ranking_filters(year, level, era)
        rows = reports.ranking(current_user, choice["year"], choice["level"], choice["era"])
        return _fast_json(rows, _report_headers(choice))


@blp.route("/indicators")
class Indicators(MethodView):
    @login_required_api
    @blp.arguments(IndicatorQuerySchema(empty_means_all=False), location="query", as_kwargs=True,
                   unknown=ma.RAISE)
    @blp.response(200, IndicatorSummarySchema(many=True))
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(422, schema="Error")
    def get(self, year=None, level=None, era=None):
        """On-time rate, online share and signed share across the ranked units, against targets"""
        choice = reports.resolve_ranking_filters(year, level, era)
        rows = reports.ranking(current_user, choice["year"], choice["level"], choice["era"])
        return reports.indicator_summary(rows), 200, _report_headers(choice)


@blp.route("/inspections")
class InspectionCounts(MethodView):
    @login_required_api
    @blp.arguments(OverviewQuerySchema(empty_means_all=False), location="query", unknown=ma.RAISE)
    @blp.response(200, OverviewSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(422, schema="Error")
    def get(self, filters):
        """Inspections counted by state, by plan and by trip"""
        return reports.overview_counts(current_user, filters)


@blp.route("/recommendations")
class Recommendations(MethodView):
    @login_required_api
    @blp.arguments(RecommendationQuerySchema(empty_means_all=False), location="query",
                   unknown=ma.RAISE)
    @blp.response(200, RecommendationRowSchema(many=True), headers={
        "X-Total-Count": {"description": "Matching recommendations (all pages)",
                          "schema": {"type": "integer"}}})
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(422, schema="Error")
    def get(self, filters):
        """Recommendations with unit, due date, status, overdue flag and follow-up result

        A recommendation is overdue when it is still open after its due date. Paged with `page`
        and `per_page` (default 100, at most 5000); the total is in X-Total-Count.
        """
        rows, total = reports.recommendation_list(current_user, filters)
        return rows, 200, {"X-Total-Count": str(total)}
