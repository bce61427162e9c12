#!/bin/sh
# Runs inside the image root (chroot) after configure-debian.sh, for the wine stand-in image:
# make the wine prefix the agent's Windows side lives in, so that no boot pays for it (about a
# minute under TCG).  The path is harness/machines/winestandin.py's PREFIX.
set -eu
export WINEPREFIX=/var/lib/vmapp/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mkdir -p "$WINEPREFIX"
wineboot --init </dev/null >/var/log/vmapp-wineboot.log 2>&1
wineserver -w
test -e "$WINEPREFIX/system.reg"
rm -rf /tmp/.wine-* /tmp/* /var/tmp/*
