"""`make soak`: stop `vmapp run` at random moments and count what it leaves behind.

Each round starts `vmapp run` on one scenario (real VMs), waits a random time (so the stop lands
in the image, publish, boot, steps, collect or destroy stage), sends SIGINT, SIGTERM or SIGKILL,
half of the rounds on a warm machine (the default) and half with `--fresh-vm` (a booted VM).
The random times are drawn up to how long one undisturbed run of each kind takes, measured
first (a stop after the run ended tests nothing),
and after a SIGKILL runs `vmapp gc` (what an operator does after a killed job); in half of the
SIGKILL rounds the run's state folder is deleted first (a state folder on tmpfs, or wiped by
hand), so gc must find the run's domains by what their descriptions record.  Then it counts
the run's leftovers: libvirt domains and volumes, processes (QEMU, Azurite, the agent's local
machines) naming the run, and its state folder.  The figure that matters is 0.

    python -m tests.soak [--rounds-per-signal N] [--seed S]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness.machines import libvirtd
from harness.settings import REPO_ROOT, state_dir

VMAPP = Path(sys.executable).with_name("vmapp")
SCENARIO = "scenarios/tar-golang.yaml"
SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGKILL": signal.SIGKILL}


def run_id_of(reports: Path, before: set[str]) -> str:
    """The run the stopped command started (its report folder, else its state folder)."""
    for where in (reports, state_dir() / "runs"):
        new = sorted({p.name for p in where.glob("2*")} - before) if where.is_dir() else []
        if new:
            return new[-1]
    return ""


def leftovers(run_id: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"domains": [], "volumes": [], "processes": [], "folders": []}
    if not run_id:
        return found
    conn = libvirtd.open_connection()
    try:
        found["domains"] = [d for d in libvirtd.harness_domains(conn) if run_id in d]
        found["volumes"] = [v for v in libvirtd.leftover_volumes(conn) if run_id in v]
    finally:
        conn.close()
    ps = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True, check=True)
    found["processes"] = [line.strip()[:120] for line in ps.stdout.splitlines()
                          if run_id in line and "soak" not in line]
    folder = state_dir() / "runs" / run_id
    found["folders"] = [str(folder)] if folder.exists() else []
    return found


def start(reports: Path, fresh: bool) -> subprocess.Popen[bytes]:
    """`vmapp run`, its output in ``reports``/run.log (a stop it ignores dumps its stacks)."""
    env = {**os.environ, "VMAPP_REPORTS_DIR": str(reports), "PYTHONFAULTHANDLER": "1"}
    argv = [str(VMAPP), "run", "-j", "1", "--image", "debian-12", SCENARIO]
    with (reports / "run.log").open("wb") as log:
        return subprocess.Popen(argv + (["--fresh-vm"] if fresh else []), cwd=REPO_ROOT,
                                env=env, stdout=log, stderr=subprocess.STDOUT)


def undisturbed_seconds(reports: Path, fresh: bool) -> float:
    """How long one run takes start to end (the first also builds what is not cached)."""
    start(reports, fresh).wait()
    began = time.monotonic()
    code = start(reports, fresh).wait()
    if code != 0:
        raise SystemExit(f"soak: an undisturbed run exited {code}; fix that first")
    return time.monotonic() - began


def one_round(sig: str, wait: float, fresh: bool, lose_folder: bool,
              reports: Path) -> dict[str, object]:
    before = {p.name for p in reports.glob("2*")} | {p.name for p in
                                                      (state_dir() / "runs").glob("2*")}
    env = {**os.environ, "VMAPP_REPORTS_DIR": str(reports)}
    child = start(reports, fresh)
    time.sleep(wait)
    child.send_signal(SIGNALS[sig])
    try:
        code = child.wait(timeout=300)
    except subprocess.TimeoutExpired:  # the stop was not obeyed: keep where it was stuck
        child.send_signal(signal.SIGABRT)
        code = child.wait()
    run_id = run_id_of(reports, before)
    if code not in (130, -SIGNALS[sig]):
        kept = Path(tempfile.gettempdir()) / f"soak-{run_id or 'run'}.log"
        shutil.copyfile(reports / "run.log", kept)
        print(f"soak: the run exited {code} after {sig}: its output in {kept}", flush=True)
    if sig == "SIGKILL":
        if lose_folder and run_id:
            shutil.rmtree(state_dir() / "runs" / run_id, ignore_errors=True)
        subprocess.run([str(VMAPP), "gc"], env=env, capture_output=True, timeout=600,
                       check=False)
    left = leftovers(run_id)
    return {"signal": sig, "machine": "fresh" if fresh else "warm",
            "after_seconds": round(wait, 1), "exit": code, "run": run_id,
            "folder_deleted_before_gc": lose_folder,
            "left": {k: v for k, v in left.items() if v}}


def main() -> int:
    parser = argparse.ArgumentParser(prog="soak")
    parser.add_argument("--rounds-per-signal", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261203)
    args = parser.parse_args()
    # a shell starts background jobs with SIGINT ignored, and children inherit that: a vmapp run
    # would then ignore the SIGINT rounds (and run to its end), so give it the default back
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    rng = random.Random(args.seed)
    libvirtd.ensure_daemons()
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        longest = {fresh: undisturbed_seconds(Path(tmp), fresh) for fresh in (False, True)}
        print(f"soak: an undisturbed run takes {longest[False]:.0f} s on a warm machine, "
              f"{longest[True]:.0f} s with a fresh VM", flush=True)
        rounds = [(sig, fresh, rng.uniform(1, longest[fresh]), sig == "SIGKILL" and n % 4 > 1)
                  for sig in SIGNALS for n in range(args.rounds_per_signal)
                  for fresh in [n % 2 == 1]]
        rng.shuffle(rounds)
        for sig, fresh, wait, lose_folder in rounds:
            result = one_round(sig, wait, fresh, lose_folder, Path(tmp))
            left = result["left"]
            assert isinstance(left, dict)
            count = sum(len(found) for found in left.values())
            total += count
            print(json.dumps(result), flush=True)
    print(f"soak: {len(rounds)} stops ({args.rounds_per_signal} per signal), "
          f"{total} leftover(s)")
    return 0 if total == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
