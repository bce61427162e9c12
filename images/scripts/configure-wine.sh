#!/bin/sh
# Runs inside the image root (chroot) after configure-debian.sh, for the wine stand-in image:
# make the wine prefix the agent's Windows side lives in, so that no boot pays for it (a minute
# in a guest under TCG).  The path is harness/machines/winestandin.py's PREFIX.  wine needs /proc
# (without it: "could not load ntdll.so"), which the chroot does not have: mounted here for
# wineboot and unmounted before the image is made of this folder.
set -eu
export WINEPREFIX=/var/lib/vmapp/wine WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
mount -t proc proc /proc
trap 'wineserver -k 2>/dev/null || true; umount /proc' EXIT
mkdir -p "$WINEPREFIX"
wineboot --init </dev/null >/var/log/vmapp-wineboot.log 2>&1
wineserver -w
test -e "$WINEPREFIX/system.reg"
rm -rf /tmp/.wine-* /tmp/* /var/tmp/*
