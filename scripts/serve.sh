#!/usr/bin/env bash
# Serve the app with demo data on SQLite in ./instance (first run sets everything up).
#   PORT=8000 scripts/serve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
ensure_venv
export INSPECTION_DEMO=1
# Plain http on the loopback address: the session cookie cannot be Secure here.
export SESSION_COOKIE_SECURE=${SESSION_COOKIE_SECURE:-0}
PORT=${PORT:-5000}
.venv/bin/flask --app inspection init-db
.venv/bin/flask --app inspection seed-demo
cat <<MSG

  Kiểm tra CCHC đang chạy tại / is running at:  http://127.0.0.1:${PORT}/
  Ứng dụng hiện trường / field app:             http://127.0.0.1:${PORT}/app/
  Tài khoản mẫu / demo logins (mật khẩu / password demo1234):
    admin       quản trị Sở Nội vụ / secretariat admin
    leader      trưởng đoàn / team leader
    inspector1  thành viên đoàn / team member
    inspector2  thành viên đoàn / team member
    inspector3  thành viên, chưa thuộc đoàn nào / inspector on no trip
    unitrep     đại diện xã Cô Ngân / representative of xã Cô Ngân

MSG
# gevent workers (gunicorn.conf.py): slow clients cannot starve the server.
exec .venv/bin/gunicorn --config gunicorn.conf.py --bind "127.0.0.1:${PORT}" --access-logfile - wsgi:app
