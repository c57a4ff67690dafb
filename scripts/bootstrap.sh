#!/usr/bin/env bash
# Set up everything auditkit needs on a Debian/Ubuntu machine with Python >= 3.11, then run a task.
#
#   bash scripts/bootstrap.sh demo   # install auditkit into .venv and run the demo audit
#   bash scripts/bootstrap.sh test   # install with the test tools and run the whole test suite
#
# System packages (Pango for WeasyPrint's PDF rendering, fonts, poppler-utils, python3-venv) are
# installed with apt-get only when missing; that needs root or sudo.
set -euo pipefail

task="${1:-demo}"
shift || true
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=".venv"

say() { printf 'bootstrap: %s\n' "$*" >&2; }

check_python() {
  if ! command -v "$PYTHON" >/dev/null 2>&1; then
    say "no $PYTHON found: install Python 3.11 or newer (Debian: apt-get install python3)"; exit 2
  fi
  if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
    say "auditkit needs Python >= 3.11; $PYTHON is $("$PYTHON" -V 2>&1)"; exit 2
  fi
}

missing_system_packages() {
  local wanted=()
  ldconfig -p 2>/dev/null | grep -q 'libpango-1.0.so' || wanted+=(libpango-1.0-0)
  ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || wanted+=(libpangoft2-1.0-0)
  ldconfig -p 2>/dev/null | grep -q 'libharfbuzz-subset.so' || wanted+=(libharfbuzz-subset0)
  [ -d /usr/share/fonts/truetype/dejavu ] || wanted+=(fonts-dejavu-core)
  command -v pdftoppm >/dev/null 2>&1 || wanted+=(poppler-utils)
  "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1 || wanted+=(python3-venv)
  printf '%s\n' "${wanted[@]}"
}

install_system_packages() {
  local packages
  mapfile -t packages < <(missing_system_packages | sed '/^$/d')
  [ "${#packages[@]}" -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null 2>&1; then
    say "please install the equivalents of: ${packages[*]} (no apt-get here)"; return 0
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      say "please install as root: apt-get install ${packages[*]}"; return 0
    fi
  fi
  say "installing system packages: ${packages[*]}"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
}

install_python_packages() {
  local extras="$1" stamp="$VENV/.auditkit-installed-$1"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
  fi
  local digest
  digest=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    say "installing auditkit and its dependencies into $VENV (first run takes a minute or two)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".$extras"
    echo "$digest" > "$stamp"
  fi
  # An editable install leaves auditkit's own modules to be compiled when first imported, and where
  # PYTHONDONTWRITEBYTECODE is set, at every start of a command: compile them here, as installing a
  # wheel does (only what changed since the last time).
  "$VENV/bin/python" -m compileall -q auditkit >/dev/null
}

check_python
install_system_packages
case "$task" in
  demo)
    install_python_packages ""
    exec "$VENV/bin/auditkit" demo "$@"
    ;;
  test)
    install_python_packages "[dev]"
    set +e
    "$VENV/bin/python" -m pytest -n 2 "$@"
    status=$?
    set -e
    if [ "$status" -eq 5 ]; then say "no tests were collected: that is a failure"; exit 1; fi
    exit "$status"
    ;;
  *)
    say "unknown task '$task' (use: demo | test)"; exit 2
    ;;
esac
