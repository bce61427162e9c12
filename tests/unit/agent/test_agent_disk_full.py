"""A full disk, for real: the guest's whole root is a 256 KiB tmpfs in a private mount namespace.

Before the fix the 1 MiB package filled the disk, the ``.part`` stayed (so did the full disk),
the agent retried for the whole retry window, died writing its journal (exit 1, "Install
PENDING" for ever) and then failed every re-send writing the lock's owner file.  Now the
download fails at once with a clear message, its ``.part`` goes, the status says so, and a
re-send on a disk that is full again still answers.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time

import pytest
from agent_guest import Guest

TMPFS_SIZE = "256k"


def _private_mounts_available() -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _private_mounts_available(),
                                reason="needs root and unshare --mount for a private tmpfs")


def run_on_full_disk(guest: Guest, script: str) -> list[str]:
    """Run ``script`` with the guest root on a tiny tmpfs; copy the root out before the
    namespace (and its tmpfs) goes.  Returns the script's stdout lines."""
    after = guest.tmp / "after"
    root = shlex.quote(str(guest.root))
    wrapped = (f"mount -t tmpfs -o size={TMPFS_SIZE} tmpfs {root} || exit 99\n{script}\n"
               f"cp -a {root}/. {shlex.quote(str(after))}/\n")
    after.mkdir()
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", wrapped],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    shutil.rmtree(guest.root)
    shutil.copytree(after, guest.root, symlinks=True)
    return done.stdout.split()


def test_full_disk_fails_the_download_cleanly_and_re_sends_still_answer(guest: Guest) -> None:
    app = guest.app("go", package=os.urandom(1024 * 1024))
    goal = guest.write_goal(guest.goal(1, [app], downloadRetrySeconds=30))
    apply = shlex.join(guest.argv("apply", str(goal)))
    filler = shlex.quote(str(guest.root / "filler"))
    started = time.monotonic()
    codes = run_on_full_disk(guest, f"{apply} >/dev/null; echo $?\n"
                                    f"head -c 1M /dev/zero > {filler} 2>/dev/null\n"
                                    f"{apply} >/dev/null; echo $?\nrm -f {filler}")
    assert codes == ["0", "0"], "first apply, then the re-send on a disk full again"
    assert time.monotonic() - started < 20, "a full disk is not worth retrying"
    result = guest.results(1)["go"]
    assert result.startswith("Install FAILED Error downloading package from ")
    assert "no space left on device" in result
    assert guest.status(1)["status"] == "success"  # an app failing is data (docs/agent.md)
    assert list(guest.app_dir("go", "1.0.0").iterdir()) == []  # no .part left behind
    assert guest.trace_lines() == []
    assert guest.registry()["go"]["state"] == "Failed"


def test_disk_already_full_is_a_clean_refusal_and_a_later_re_send_works(guest: Guest) -> None:
    goal = guest.write_goal(guest.goal(1, [guest.app("go")]))
    apply = shlex.join(guest.argv("apply", str(goal)))
    filler = shlex.quote(str(guest.root / "filler"))
    err = shlex.quote(str(guest.tmp / "stderr"))
    codes = run_on_full_disk(guest, f"head -c 1M /dev/zero > {filler} 2>/dev/null\n"
                                    f"{apply} >/dev/null 2>{err}; echo $?\n"
                                    f"rm -f {filler}\n{apply} >/dev/null; echo $?")
    assert codes == ["2", "0"]
    stderr = (guest.tmp / "stderr").read_text()
    assert stderr.startswith("vmapp_agent: error: cannot write its files: ")
    assert "No space left on device" in stderr and stderr.count("\n") == 1
    assert guest.results(1) == {"go": "Install SUCCESS"}
