# Shared set-up for scripts/serve.sh and scripts/test.sh (sourced, not run).
# Creates .venv and installs the project into it; reinstalls only when pyproject.toml changes.
set -euo pipefail

ensure_venv() {  # ensure_venv [extras]
  local extras=${1:-}
  local python=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
  fi
  local stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)${extras:+-$extras}"
  if [ ! -f "$stamp" ]; then
    echo "Installing the project into .venv (once per change of pyproject.toml)…"
    if ! { .venv/bin/python -m pip install --upgrade pip && \
           .venv/bin/python -m pip install -e ".${extras:+[$extras]}"; } > .venv/pip.log 2>&1; then
      cat .venv/pip.log >&2
      return 1
    fi
    touch "$stamp"
  fi
}

ensure_debian_packages() {  # ensure_debian_packages command:package ...
  local missing=()
  for pair in "$@"; do
    local cmd=${pair%%:*} pkg=${pair#*:}
    if [[ $cmd == /* ]]; then [ -e "$cmd" ] || missing+=("$pkg")
    else command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg"); fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "Missing Debian packages (install them as root): ${missing[*]}" >&2
    return 1
  fi
}
