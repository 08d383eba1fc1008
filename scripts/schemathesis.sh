#!/usr/bin/env bash
# Install the pinned schemathesis (property-based tests generated from
# /api/v1/openapi.json) into a project-local venv, and print its CLI's path.
#
#   scripts/schemathesis.sh path      install if needed, print the CLI's absolute path
#
# The venv is .tools/schemathesis (git-ignored). Installing is idempotent: a
# venv marked as holding the pinned version is used as it is; anything else
# there (another version, an install cut short) is removed and built anew
# (in place: a venv's scripts name their interpreter by absolute path, so
# it cannot be built elsewhere and moved). Only the path goes to stdout.
set -euo pipefail

readonly PIN="4.32.5"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly ROOT
readonly VENV="$ROOT/.tools/schemathesis"
readonly CLI="$VENV/bin/schemathesis"

say() { printf 'schemathesis.sh: %s\n' "$*" >&2; }

readonly MARK="$VENV/.lantern-pin-$PIN"

install() {
    say "installing schemathesis $PIN into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$PIN" >&2
    "$CLI" --version >&2
    touch "$MARK"
}

case "${1:-path}" in
    path)
        mkdir -p "$ROOT/.tools"
        if [[ ! -e "$MARK" || ! -x "$CLI" ]]; then
            install
        fi
        printf '%s\n' "$CLI"
        ;;
    *)
        say "usage: $0 path"
        exit 2
        ;;
esac
