#!/usr/bin/env bash
# Idempotent set-up of a development / CI machine (Debian 12, python3 >= 3.11).
#
#   scripts/setup.sh                    # from anywhere; works on the repository this script belongs to
#   scripts/setup.sh --languages all    # and the Tesseract pack of every language inkread lists
#
# 1. apt packages listed in scripts/apt-packages.txt (with --languages all, scripts/apt-languages.txt
#    too: the tesseract-ocr-* pack of each of inkread's Tesseract languages), only when one is missing
#    (needs root; without root it lists what is missing and goes on);
# 2. .venv created with python3 (or $PYTHON) when absent or broken;
# 3. pip install -e '.[test,train,ray]' into .venv (train: PyTorch and onnx for inkread.training and its
#    test; a CPU build of torch from pip's find-links folders when one is there, so no CUDA stack is
#    pulled in), skipped when pyproject.toml (and the venv's Python) has not changed since the last
#    successful install (hash in .venv/.inkread-setup-hash).
#
# Environment: PYTHON (interpreter for a new venv, default python3), INKREAD_SKIP_APT=1 (skip step 1),
# INKREAD_FORCE_INSTALL=1 (re-run pip even when the hash matches).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO_ROOT="$(pwd)"
VENV="$REPO_ROOT/.venv"
HASH_FILE="$VENV/.inkread-setup-hash"
PYTHON="${PYTHON:-python3}"

log() { printf 'setup: %s\n' "$*" >&2; }

usage() {
    printf 'usage: scripts/setup.sh [--languages all]\n' >&2
    printf '  --languages all   also install the Tesseract pack of every language inkread lists\n' >&2
    printf '                    (scripts/apt-languages.txt; without it, the packs in scripts/apt-packages.txt)\n' >&2
}

# the apt package lists to install from
APT_LISTS=(scripts/apt-packages.txt)
while (( $# > 0 )); do
    case "$1" in
        --languages | --languages=*)
            if [[ "$1" == --languages=* ]]; then
                value="${1#--languages=}"
            elif (( $# > 1 )); then
                value="$2"
                shift
            else
                value=""
            fi
            if [[ "$value" != "all" ]]; then
                log "ERROR: --languages takes 'all' (got '${value}')"
                usage
                exit 2
            fi
            APT_LISTS+=(scripts/apt-languages.txt)
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            log "ERROR: unknown argument '$1'"
            usage
            exit 2
            ;;
    esac
    shift
done

# ------------------------------------------------------------------------ 1. system packages
wanted_packages() {  # the packages of every list in APT_LISTS, once each, in order
    local pkg
    cat "${APT_LISTS[@]}" | while IFS= read -r pkg; do
        pkg="${pkg%%#*}"
        pkg="$(printf '%s' "$pkg" | tr -d '[:space:]')"
        [[ -n "$pkg" ]] && printf '%s\n' "$pkg"
    done | awk '!seen[$0]++'
}

missing_packages() {
    local pkg installed
    # one dpkg-query for them all (a query per package is slow with 150 of them)
    installed="$(dpkg-query -W -f='${Package} ${Status}\n' 2>/dev/null | awk '/install ok installed$/ {print $1}')"
    while IFS= read -r pkg; do
        grep -qxF -- "$pkg" <<<"$installed" || printf '%s\n' "$pkg"
    done < <(wanted_packages)
}

install_system_packages() {
    if [[ "${INKREAD_SKIP_APT:-0}" == "1" ]]; then
        log "INKREAD_SKIP_APT=1: not checking apt packages"
        return 0
    fi
    if ! command -v dpkg-query >/dev/null 2>&1; then
        log "WARNING: no dpkg-query (not Debian?); install these yourself if missing:"
        wanted_packages | sed 's/^/  /' >&2
        return 0
    fi
    local -a missing
    mapfile -t missing < <(missing_packages)
    # a python3 without ensurepip (Debian without python3-venv) cannot create the venv
    if [[ ! -x "$VENV/bin/python" ]] && command -v "$PYTHON" >/dev/null 2>&1 \
        && ! "$PYTHON" -c 'import ensurepip' >/dev/null 2>&1; then
        missing+=("python3-venv")
    fi
    if (( ${#missing[@]} == 0 )); then
        return 0
    fi
    if [[ "$(id -u)" -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        log "WARNING: missing system packages (need root and apt-get to install them):"
        log "  sudo apt-get install -y ${missing[*]}"
        log "continuing without them; tests that need them will skip or fail."
        return 0
    fi
    log "installing apt packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ------------------------------------------------------------------------ 2. virtualenv
python_ok() {  # $1: interpreter; true when it is Python >= 3.11
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

create_venv() {
    if [[ -x "$VENV/bin/python" ]] && python_ok "$VENV/bin/python"; then
        return 0
    fi
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        log "ERROR: $PYTHON not found; install Python >= 3.11 (apt-get install python3 python3-venv)"
        exit 1
    fi
    if ! python_ok "$PYTHON"; then
        log "ERROR: $PYTHON is $("$PYTHON" --version 2>&1); inkread needs Python >= 3.11 (set PYTHON=...)"
        exit 1
    fi
    if [[ -e "$VENV" ]]; then
        log "recreating broken or outdated .venv"
        rm -rf "$VENV"
    fi
    log "creating .venv with $("$PYTHON" --version 2>&1)"
    "$PYTHON" -m venv "$VENV"
}

# ------------------------------------------------------------------------ 3. the package
setup_hash() {
    {
        cat pyproject.toml
        "$VENV/bin/python" -c 'import sys; print(sys.version)'
    } | sha256sum | cut -d' ' -f1
}

cpu_torch_wheel() {  # the newest torch-*+cpu wheel in pip's find-links folders, if any
    local dir links
    links="$("$VENV/bin/python" -m pip config get global.find-links 2>/dev/null || true) ${PIP_FIND_LINKS:-}"
    for dir in $links; do
        dir="${dir#file://}"
        [[ -d "$dir" ]] || continue
        ls "$dir"/torch-*+cpu-*.whl 2>/dev/null
    done | sort -V | tail -n 1
}

install_package() {
    local want have=""
    want="$(setup_hash)"
    [[ -f "$HASH_FILE" ]] && have="$(cat "$HASH_FILE")"
    if [[ "$want" == "$have" && "${INKREAD_FORCE_INSTALL:-0}" != "1" ]] \
        && "$VENV/bin/python" -c 'import inkread' >/dev/null 2>&1; then
        return 0
    fi
    log "pip install -e '.[test,train,ray]' (this can take a few minutes the first time)"
    rm -f "$HASH_FILE"
    local pip_log="$VENV/.inkread-setup-pip.log" wheel
    if ! "$VENV/bin/python" -c 'import torch' >/dev/null 2>&1; then
        wheel="$(cpu_torch_wheel)"
        if [[ -n "$wheel" ]] && ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
            "$wheel" >"$pip_log" 2>&1; then
            log "WARNING: could not install $wheel; pip will choose a torch build itself"
        fi
    fi
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[test,train,ray]' \
        >"$pip_log" 2>&1; then
        tail -n 40 "$pip_log" >&2
        log "ERROR: pip install failed (full log: $pip_log)"
        exit 1
    fi
    printf '%s\n' "$want" > "$HASH_FILE"
}

install_system_packages
create_venv
install_package
log "ready: $VENV ($("$VENV/bin/python" --version 2>&1))"
