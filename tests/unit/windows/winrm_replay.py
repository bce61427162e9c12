"""A WS-Management endpoint on 127.0.0.1 that replays the cmd-shell exchanges Windows answers
(Create shell, Command, Receive, Signal, Delete), as pywinrm's own tests replay them.

Each response is the envelope Windows sends for that action (MS-WSMV), with ``RelatesTo`` set
to the request's ``MessageID``.  What a command "printed" and how it ended come from the test's
``script`` (command string -> stdout, stderr, exit code); output arrives in two Receives (first
``Running``, then ``Done``), and commands listed in ``slow`` first get the operation-timeout
fault a Receive gets on Windows when a command prints nothing for a while.

A reboot (:meth:`Replay.reboot`) is what a client sees of one through QEMU's forwarded port:
the next requests are dropped unanswered (QEMU accepts the connection, nothing listens behind
it), then every shell opened before is unknown to the server (the fault Windows sends for a
ShellId it does not have, WS-Management code 2150858843).
"""

from __future__ import annotations

import base64
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NS = {"s": "http://www.w3.org/2003/05/soap-envelope",
      "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
      "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
      "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"}
SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
SHELL_ID = "5B6F4B5A-1F0B-4C5E-9C1A-{:012d}"
USER, PASSWORD = "vagrant", "vagrant"

ENVELOPE = (
    '<?xml version="1.0" ?>'
    '<s:Envelope xml:lang="en-US" xmlns:s="{s}" xmlns:a="{a}" xmlns:w="{w}" xmlns:rsp="{rsp}"'
    ' xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer">'
    "<s:Header><a:Action>{action}</a:Action>"
    "<a:MessageID>uuid:0A1B2C3D-0000-0000-0000-000000000001</a:MessageID>"
    "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
    "<a:RelatesTo>{relates}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>")
CREATED = ("<x:ResourceCreated><a:Address>http://127.0.0.1/wsman</a:Address>"
           "<a:ReferenceParameters><w:ResourceURI>" + SHELL + "/cmd</w:ResourceURI>"
           '<w:SelectorSet><w:Selector Name="ShellId">{shell}</w:Selector>'
           "</w:SelectorSet></a:ReferenceParameters></x:ResourceCreated>")
STREAM = '<rsp:Stream Name="{name}" CommandId="{id}">{data}</rsp:Stream>'
END = '<rsp:Stream Name="{name}" CommandId="{id}" End="true"></rsp:Stream>'
STATE = '<rsp:CommandState CommandId="{id}" State="' + SHELL + '/CommandState/{state}">{code}' \
        "</rsp:CommandState>"
FAULT = (
    '<?xml version="1.0" ?><s:Envelope xmlns:s="{s}" xmlns:a="{a}" xmlns:w="{w}"><s:Header>'
    "<a:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/fault</a:Action>"
    "<a:RelatesTo>{relates}</a:RelatesTo></s:Header><s:Body><s:Fault><s:Code>"
    "<s:Value>{code}</s:Value><s:Subcode><s:Value>{subcode}</s:Value></s:Subcode></s:Code>"
    '<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason><s:Detail>'
    '<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
    'Code="{wsman}" Machine="127.0.0.1"><f:Message>{message}</f:Message>'
    "</f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>")
TIMED_OUT = {"code": "s:Receiver", "subcode": "w:TimedOut", "wsman": "2150858793",
             "reason": "The WS-Management service cannot complete the operation within the "
                       "time specified in OperationTimeout.",
             "message": "The WS-Management service cannot complete the operation within the "
                        "time specified in OperationTimeout."}
NO_SHELL = {"code": "s:Sender", "subcode": "w:InvalidSelectors", "wsman": "2150858843",
            "reason": "The WS-Management service cannot process the request because the "
                      "request contained invalid selectors for the resource. ",
            "message": "The request for the Windows Remote Shell with ShellId {shell} failed "
                       "because the shell was not found on the server. Possible causes are: "
                       "the specified ShellId is incorrect or the shell no longer exists on "
                       "the server. Provide the correct ShellId or create a new shell and "
                       "retry the operation. "}

Script = Callable[[str], tuple[bytes, bytes, int]]


@dataclass
class Replay:
    script: Script
    slow: set[str] = field(default_factory=set)
    commands: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    port: int = 0
    shells: list[str] = field(default_factory=list)  # the shells the server knows
    opened: int = 0
    dropping: int = 0  # requests still to drop unanswered (the guest is rebooting)
    _pending: dict[str, list[str]] = field(default_factory=dict)

    def reboot(self, dropped: int) -> None:
        """Drop the next ``dropped`` requests, then answer again, knowing no earlier shell."""
        self.shells.clear()
        self.dropping = dropped

    def answer(self, request: bytes) -> tuple[int, str] | None:
        """The status and body Windows would send, or None for no answer at all."""
        if self.dropping:
            self.dropping -= 1
            self.actions.append("dropped")
            return None
        root = ET.fromstring(request)
        action = root.findtext("s:Header/a:Action", "", NS)
        relates = root.findtext("s:Header/a:MessageID", "", NS)
        verb = action.rsplit("/", 1)[-1]
        self.actions.append(verb)
        if verb == "Create":
            for option in root.iterfind("s:Header/w:OptionSet/w:Option", NS):
                self.options[option.get("Name", "")] = option.text or ""
            self.opened += 1
            self.shells.append(SHELL_ID.format(self.opened))
            return 200, self._envelope(f"{TRANSFER}/CreateResponse", relates,
                                       CREATED.format(shell=self.shells[-1]))
        shell = root.findtext("s:Header/w:SelectorSet/w:Selector[@Name='ShellId']", "", NS)
        if shell not in self.shells:
            self.actions[-1] = f"{verb} (no shell)"
            fault = {**NO_SHELL, "message": NO_SHELL["message"].format(shell=shell)}
            return 500, FAULT.format(relates=relates, **fault, **NS)
        if verb == "Command":
            command = root.findtext("s:Body/rsp:CommandLine/rsp:Command", "", NS)
            command_id = f"C0FFEE00-0000-0000-0000-{len(self.commands):012d}"
            self.commands.append(command)
            self._pending[command_id] = self._receives(command, command_id)
            body = f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId>" \
                   "</rsp:CommandResponse>"
            return 200, self._envelope(f"{SHELL}/CommandResponse", relates, body)
        if verb == "Receive":
            stream = root.find("s:Body/rsp:Receive/rsp:DesiredStream", NS)
            queue = self._pending[stream.get("CommandId", "") if stream is not None else ""]
            body = queue.pop(0)
            if body == "timeout":
                return 500, FAULT.format(relates=relates, **TIMED_OUT, **NS)
            return 200, self._envelope(f"{SHELL}/ReceiveResponse", relates, body)
        if verb == "Signal":
            return 200, self._envelope(f"{SHELL}/SignalResponse", relates,
                                       "<rsp:SignalResponse/>")
        if verb == "Delete":
            return 200, self._envelope(f"{TRANSFER}/DeleteResponse", relates, "")
        return 400, f"unexpected action {action}"

    @staticmethod
    def _envelope(action: str, relates: str, body: str) -> str:
        return ENVELOPE.format(action=action, relates=relates, body=body, **NS)

    def _receives(self, command: str, command_id: str) -> list[str]:
        out, err, code = self.script(command)
        half = len(out) // 2

        def streams(name: str, data: bytes) -> str:
            return STREAM.format(name=name, id=command_id,
                                 data=base64.b64encode(data).decode()) if data else ""

        first = (streams("stdout", out[:half]) +
                 STATE.format(id=command_id, state="Running", code=""))
        last = (streams("stdout", out[half:]) + streams("stderr", err) +
                END.format(name="stdout", id=command_id) +
                END.format(name="stderr", id=command_id) +
                STATE.format(id=command_id, state="Done",
                             code=f"<rsp:ExitCode>{code}</rsp:ExitCode>"))
        bodies = [f"<rsp:ReceiveResponse>{b}</rsp:ReceiveResponse>" for b in (first, last)]
        return (["timeout"] if command in self.slow else []) + bodies


@contextmanager
def serve(replay: Replay) -> Iterator[Replay]:
    """Serve ``replay`` on 127.0.0.1 (Basic auth as vagrant/vagrant) while the block runs."""
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            answer = (401, "") if self.headers.get("Authorization") != expected \
                else replay.answer(body)
            if answer is None:  # dropped: the connection closes with nothing sent
                return
            status, text = answer
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    replay.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield replay
    finally:
        server.shutdown()
        server.server_close()
