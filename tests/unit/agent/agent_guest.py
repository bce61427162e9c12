"""Helpers for the guest-agent tests: a real HTTP blob server and a temp-root "guest".

The agent runs as a real subprocess (``PYTHON vmapp_agent.py --root TMP ...``) with the real
/bin/sh.  PYTHON is this interpreter, or ``$VMAPP_AGENT_PYTHON`` (a guest's own, to run the whole
suite on it), or the one a test module chooses (test_agent_python39.py).  Packages come over real
HTTP from a ``http.server`` on 127.0.0.1.  Commands write lines to a trace file so tests can
assert exactly what ran, in which order, in which folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

AGENT = Path(__file__).resolve().parents[3] / "harness" / "agent" / "vmapp_agent.py"
# What Debian 11 (the oldest guest, Python 3.9) needs of its own packages to run Python here.
BULLSEYE_PYTHON_DEBS = ("python3.9-minimal", "libpython3.9-minimal", "libpython3.9-stdlib",
                        "libmpdec3", "libssl1.1", "libffi7")
LINUX_EXT = "Microsoft.CPlat.Core.VMApplicationManagerLinux"


class BlobServer:
    """Serves ``files``; a path starting with ``/status/<code>/`` answers with that HTTP code."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append(self.path)
                if path.startswith("/status/"):
                    self.send_error(int(path.split("/")[2]))
                    return
                data = server.files.get(path.lstrip("/"))
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def put(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return self.url(name)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}?sv=2021-08-06&sr=b&sig=TOPSECRET"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class Guest:
    """A temp folder standing in for a VM's root, and helpers to drive the agent against it."""

    def __init__(self, tmp: Path, server: BlobServer, os_name: str = "linux",
                 python: str | None = None) -> None:
        self.python = python or os.environ.get("VMAPP_AGENT_PYTHON") or sys.executable
        self.tmp = tmp
        self.root = tmp / "root"
        self.root.mkdir()
        self.server = server
        self.os = os_name
        self.boot_file = tmp / "boot_id"
        self.boot_file.write_text("boot-1\n")
        self.trace = tmp / "trace"
        self.ext = self.root / "var/lib/waagent" / f"{LINUX_EXT}-1.0.9"
        self.downloads = self.root / "var/lib/waagent" / LINUX_EXT

    # -- building goal states ----------------------------------------------------------------

    def app(self, name: str, version: str = "1.0.0", *, order: int | None = None,
            install: str | None = None, remove: str | None = None, update: str | None = None,
            package: bytes | None = None, config: bytes | None = None,
            **extra: Any) -> dict[str, Any]:
        """An application whose default commands append ``name:op:version`` to the trace."""
        blob = f"{self.tmp.name}/{name}/{version}/pkg"  # per test: the server is shared
        self.server.put(blob, package if package is not None else f"{name} {version}".encode())
        app: dict[str, Any] = {
            "name": name, "version": version,
            "packageReferenceId": f"/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute"
                                  f"/galleries/g/applications/{name}/versions/{version}",
            "order": order, "packageUrl": self.server.url(blob), "configUrl": None,
            "install": install if install is not None else self.mark(f"{name}:install:{version}"),
            "remove": remove if remove is not None else self.mark(f"{name}:remove:{version}"),
            "update": update, "packageFileName": None, "configFileName": None,
            "treatFailureAsDeploymentFailure": False, "enableAutomaticUpgrade": False,
            "scriptBehaviorAfterReboot": "None", "tags": "",
        }
        if config is not None:
            app["configUrl"] = self.server.put(f"{self.tmp.name}/{name}/{version}/cfg", config)
        app.update(extra)
        return app

    def mark(self, text: str) -> str:
        """A shell command appending ``text`` to the trace."""
        return f"echo {text} >> {self.trace}"

    def goal(self, seq: int, apps: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        return {"sequenceNumber": seq, "os": self.os, "options": options, "applications": apps}

    # -- running the agent -------------------------------------------------------------------

    def argv(self, *args: str) -> list[str]:
        """The agent's command line against this guest."""
        return [self.python, str(AGENT), "--root", str(self.root), "--os", self.os,
                "--boot-id-file", str(self.boot_file), *args]

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        return subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                              env=env, check=False)

    def write_goal(self, goal: dict[str, Any]) -> Path:
        path = self.tmp / f"goal-{goal['sequenceNumber']}.json"
        path.write_text(json.dumps(goal))
        return path

    def apply(self, goal: dict[str, Any], expect_rc: int | None = 0, *extra: str
              ) -> subprocess.CompletedProcess[str]:
        done = self.run(*extra, "apply", str(self.write_goal(goal)))
        if expect_rc is not None:
            assert done.returncode == expect_rc, done.stderr
        return done

    def start_apply(self, goal: dict[str, Any]) -> subprocess.Popen[str]:
        """``apply`` in the background, for tests that signal the agent while it works."""
        path = self.tmp / "goal.json"
        path.write_text(json.dumps(goal))
        return subprocess.Popen([self.python, str(AGENT), "--root", str(self.root),
                                 "--boot-id-file", str(self.boot_file), "apply", str(path)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def resume(self) -> subprocess.CompletedProcess[str]:
        done = self.run("resume")
        assert done.returncode == 0, done.stderr
        return done

    def reboot(self, boot_id: str = "boot-2") -> None:
        self.boot_file.write_text(boot_id + "\n")

    # -- reading what the agent wrote --------------------------------------------------------

    def trace_lines(self) -> list[str]:
        return self.trace.read_text().split() if self.trace.exists() else []

    def status(self, seq: int) -> dict[str, Any]:
        doc = json.loads((self.ext / "status" / f"{seq}.status").read_text())
        assert isinstance(doc, list) and len(doc) == 1
        status: dict[str, Any] = doc[0]["status"]
        return status

    def message(self, seq: int) -> dict[str, Any]:
        """The JSON part of the status message (after ``Enable succeeded: `` etc.)."""
        text = self.status(seq)["formattedMessage"]["message"]
        payload: dict[str, Any] = json.loads(text.split(": ", 1)[1])
        return payload

    def results(self, seq: int) -> dict[str, str]:
        return {a["applicationName"]: a["result"] for a in self.message(seq)["CurrentState"]}

    def details(self, seq: int) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.ext / "status" / f"{seq}.details.json").read_text())
        return data

    def ops(self, seq: int, app: str) -> list[dict[str, Any]]:
        return [op for op in self.details(seq)["operations"] if op["app"] == app]

    def registry(self) -> dict[str, dict[str, Any]]:
        path = self.ext / "config" / "applicationRegistry.active"
        return {e["name"]: e for e in json.loads(path.read_text())["applications"]}

    def app_dir(self, name: str, version: str | None = None) -> Path:
        return self.downloads / name / version if version else self.downloads / name


def debian_python(debs: Path, names: tuple[str, ...], dest: Path) -> Path | None:
    """A Debian release's own Python, unpacked from its packages in ``debs`` (the debootstrap
    cache an image build fills) into ``dest``: a launcher script that finds the release's
    libraries.  None when a package is missing there (that image was never built here)."""
    found = [sorted(debs.glob(f"{name}_*.deb"))[-1:] for name in names]
    if not all(found):
        return None
    for (deb,) in found:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
    binary = sorted((dest / "usr" / "bin").glob("python3.*"))[0]
    launcher = dest / "python"
    launcher.write_text(f'#!/bin/sh\nLD_LIBRARY_PATH={dest}/usr/lib/x86_64-linux-gnu '
                        f'exec {binary} "$@"\n')
    launcher.chmod(0o755)
    return launcher
