#!/usr/bin/env bash
# Ensure the system libraries Qt (offscreen and windowed) needs are present.
# As root on Debian/Ubuntu they are installed; otherwise we print exactly what is missing.
# Usage: packaging/system-deps.sh [--gui-window]   (exit 0 even when non-root: tests that need
# a real window skip cleanly without xvfb, but the message says what to install.)
set -u
PKGS="libegl1 libgl1 libglib2.0-0 libdbus-1-3 libfontconfig1 libxkbcommon0 fonts-dejavu-core"
# Real-window tests (Xvfb) and validators of the desktop resources.
PKGS="$PKGS xvfb libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 \
libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxkbcommon-x11-0 libxcb-xfixes0 \
desktop-file-utils appstream"

if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "system-deps: not a Debian/Ubuntu system; make sure these (or their equivalents) are installed:"
    echo "  $PKGS"
    exit 0
fi
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends $missing >/dev/null \
        || echo "system-deps: apt-get failed; missing:$missing (Qt tests may skip or fail)"
else
    echo "system-deps: these Debian packages are missing (run as root to install):"
    echo "  sudo apt-get install$missing"
fi
exit 0
