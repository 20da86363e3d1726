"""WSGI entry point: `gunicorn wsgi:app` (see README, Deployment)."""
from inspection import create_app

app = create_app()
