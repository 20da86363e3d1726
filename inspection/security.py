"""Sign-in plumbing, CSRF enforcement and response headers."""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from . import sessions
from .extensions import csrf, login_manager

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Endpoints a browser may call before it has a session (and so before it has a token).
CSRF_EXEMPT_ENDPOINTS = {"api_auth.Login", "auth.login"}


def init_security(app: Flask) -> None:
    """Wire Flask-Login, CSRF checks on every cookie-authenticated write, and headers."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    # Sessions carry their account's generation: ended ones are refused (sessions.py).
    login_manager.user_loader(sessions.load_user)
    login_manager.unauthorized_handler(sessions.unauthorized)

    @app.before_request
    def enforce_csrf():
        # Every state-changing request made with the session cookie must carry the token
        # (form field `csrf_token` or header X-CSRF-Token). The API login and the login form are
        # exempt: they create the session. Requests without a session are refused by the
        # authorisation check with 401 rather than by CSRF.
        if request.method not in UNSAFE_METHODS or request.endpoint in CSRF_EXEMPT_ENDPOINTS:
            return None
        if request.path.startswith("/api/") and not current_user.is_authenticated:
            return None
        csrf.protect()
        return None

    @app.context_processor
    def inject_csrf():
        return {"csrf_token": generate_csrf}

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
            "form-action 'self'",
        )
        if current_app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
