"""gunicorn settings, read from the working directory by `gunicorn wsgi:app` (scripts/serve.sh,
the README's deployment, the chaos and load scripts). Command-line options override them.

gevent workers: a connection costs a greenlet, not a thread, so clients that trickle their
request (a tablet on a weak 2G link, or someone doing it on purpose) cannot occupy every worker
and leave others unanswered, as they did with `--threads 4` sync workers. The app reads a body
in full, within BODY_READ_TIMEOUT, before it touches the database (inspection/edge.py), and
psycopg 3 (3.1.14 and later) cooperates with gevent by itself.
"""
import os

worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gevent")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = 500   # simultaneous connections per worker (each a greenlet)
timeout = 60               # a worker silent for this long (a stuck CPU-bound request) is restarted
graceful_timeout = 30
keepalive = 5              # seconds an idle keep-alive connection is kept
# Request line and headers: gunicorn's defaults, stated so they are not forgotten.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
