#!/usr/bin/env bash
# Installs the Python "peers" that integration tests compare cryptoml against (ta, pandas, ...) into a
# virtual environment at .venv-peers/ in the repository root. Idempotent: a stamp inside the venv records a
# hash of the requirement files, and pip runs again only when they change.
#
#   npm run test:peers                 # create or update the venv
#   PEERS_PYTHON=python3.12 npm run test:peers
#   PEERS_FORCE=1 npm run test:peers   # reinstall even when the requirements are unchanged
#
# To add a peer (MLflow, Optuna, ...): add a requirements file under test/peers/ and list it in
# REQUIREMENT_FILES below; the stamp covers every listed file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ROOT}/.venv-peers"
STAMP="${VENV}/.cryptoml-requirements.sha256"
REQUIREMENT_FILES=(
  "test/peers/requirements.txt"
  "test/peers/requirements-engine.txt"
  "test/peers/requirements-tracking.txt"
  "test/peers/requirements-tuning.txt"
  "test/peers/requirements-backtest.txt"
)
MIN_PYTHON_MINOR=11

log() { printf '[test:peers] %s\n' "$*"; }
die() { printf '[test:peers] error: %s\n' "$*" >&2; exit 1; }

# Non-Python peers from Debian: Prometheus (a real server scraping `cryptoml train`, and promtool for the
# generated rules) and Alertmanager's amtool. Installed when missing and apt-get can run as root; otherwise
# the tests that need them say so and skip.
install_debian_peers() {
  local missing=()
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v amtool >/dev/null 2>&1 || missing+=(prometheus-alertmanager)
  [[ ${#missing[@]} -gt 0 ]] || return 0
  if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "missing ${missing[*]} (apt-get install ${missing[*]}): the Prometheus tests will be skipped"
  fi
}
install_debian_peers

# Picks the interpreter that creates the venv: $PEERS_PYTHON, else python3.11, else python3.
find_python() {
  local candidate
  for candidate in "${PEERS_PYTHON:-}" python3.11 python3; do
    [[ -n "${candidate}" ]] || continue
    if command -v "${candidate}" >/dev/null 2>&1; then
      if "${candidate}" -c "import sys; sys.exit(0 if sys.version_info >= (3, ${MIN_PYTHON_MINOR}) else 1)"; then
        command -v "${candidate}"
        return 0
      fi
      log "skipping ${candidate}: older than Python 3.${MIN_PYTHON_MINOR}" >&2
    fi
  done
  die "no Python >= 3.${MIN_PYTHON_MINOR} found; install one or set PEERS_PYTHON=/path/to/python3"
}

# One hash over the names and contents of every requirements file, so adding a file also triggers pip.
requirements_hash() {
  local file
  for file in "${REQUIREMENT_FILES[@]}"; do
    [[ -f "${ROOT}/${file}" ]] || die "missing ${file}"
    printf '%s\n' "${file}"
    cat "${ROOT}/${file}"
  done | sha256sum | cut -d' ' -f1
}

ensure_venv() {
  if [[ -x "${VENV}/bin/python" ]] && "${VENV}/bin/python" -c "import sys" >/dev/null 2>&1; then
    log "using existing venv ${VENV} ($("${VENV}/bin/python" --version))"
    return 0
  fi
  local python
  python="$(find_python)"
  log "creating venv ${VENV} with ${python} ($("${python}" --version))"
  rm -rf "${VENV}"
  "${python}" -m venv "${VENV}" || die "python -m venv failed; on Debian/Ubuntu install python3-venv"
}

install_requirements() {
  local wanted current=""
  wanted="$(requirements_hash)"
  [[ -f "${STAMP}" ]] && current="$(cat "${STAMP}")"
  if [[ "${wanted}" == "${current}" && -z "${PEERS_FORCE:-}" ]]; then
    log "requirements unchanged (${wanted:0:12}); nothing to install"
    return 0
  fi
  local args=() file
  for file in "${REQUIREMENT_FILES[@]}"; do args+=(-r "${ROOT}/${file}"); done
  log "pip install ${REQUIREMENT_FILES[*]}"
  # The stamp is removed first so an interrupted install is retried next time.
  rm -f "${STAMP}"
  "${VENV}/bin/python" -m pip install --disable-pip-version-check --quiet "${args[@]}"
  printf '%s\n' "${wanted}" >"${STAMP}"
  log "installed; stamp ${wanted:0:12} written to ${STAMP#"${ROOT}/"}"
}

main() {
  cd "${ROOT}"
  ensure_venv
  install_requirements
  log "ready: ${VENV}/bin/python"
}

main "$@"
