#!/usr/bin/env bash
# Ensures what the browser-rendered tests need: Debian's chromium, pdftotext
# (poppler-utils) and a CJK font so Chinese renders. Installs the missing ones
# with apt-get (as root, or through sudo). Prints nothing when all are there.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)
fc-list 2>/dev/null | grep -qi 'cjk' || missing+=(fonts-noto-cjk)
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        sudo="sudo"
    else
        echo "browser.sh: need root or sudo to install: ${missing[*]}" >&2
        exit 1
    fi
fi
echo "browser.sh: installing ${missing[*]} (Debian packages)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
