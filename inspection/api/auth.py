"""Sign-in for the field app: a session cookie plus the CSRF token to send on writes."""
from flask import request, session
from flask.views import MethodView
from flask_login import current_user, logout_user
from flask_smorest import abort
from flask_wtf.csrf import generate_csrf

from ..errors import language
from ..extensions import db
from ..schemas.auth import LoginSchema, SessionSchema
from ..services import audit
from ..services.accounts import TooManyAttempts, sign_in
from ..sessions import start_session
from .guards import login_required_api
from .parsing import Blueprint
from .transactions import commits

blp = Blueprint("api_auth", __name__, url_prefix="/api/v1/auth", description="Sign in and out")


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, SessionSchema)
    @blp.alt_response(401, schema="Error")
    @blp.alt_response(429, schema="Error")
    @commits
    def post(self, data):
        """Sign in with username and password"""
        try:
            user = sign_in(data["username"], data["password"], request.remote_addr)
        except TooManyAttempts as exc:
            abort(429, message=exc.message(language()),
                  headers={"Retry-After": str(exc.retry_after)})
        if user is None:
            db.session.commit()  # by hand, before the refusal: the failure counts for throttling
            # The same answer for an unknown user and a wrong password.
            message = ("Sai tên đăng nhập hoặc mật khẩu." if language() != "en"
                       else "Wrong username or password.")
            abort(401, message=message, code="invalid_credentials")
        session.clear()
        start_session(user)
        audit.record("user.login", user, user)
        return {"user": user, "csrf_token": generate_csrf()}


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    @blp.alt_response(401, schema="Error")
    @login_required_api
    def post(self):
        """Sign out"""
        logout_user()
        session.clear()


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, SessionSchema)
    @blp.alt_response(401, schema="Error")
    @login_required_api
    def get(self):
        """The signed-in user and a CSRF token"""
        return {"user": current_user, "csrf_token": generate_csrf()}
