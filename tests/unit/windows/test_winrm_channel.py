"""harness.machines.winrm against replayed WS-Management exchanges (winrm_replay.py).

This is all the testing the WinRM path has had: pywinrm and the channel run for real over HTTP
on 127.0.0.1, but the answers are replayed, not a Windows machine's.
"""

from __future__ import annotations

import base64
import os
import socket

import pytest
from winrm_replay import PASSWORD, USER, Replay, serve

from harness.errors import GuestUnreachable, InfrastructureError
from harness.machines.winrm import CHUNK_CHARS, UTF8_CODEPAGE, WinRmChannel


def ok(command: str) -> tuple[bytes, bytes, int]:
    return b"", b"", 0


def channel(replay: Replay, password: str = PASSWORD) -> WinRmChannel:
    return WinRmChannel(host="127.0.0.1", port=replay.port, user=USER, password=password,
                        vm="win-box", operation_timeout=5)


def test_command_string_output_and_full_exit_code() -> None:
    command = 'move .\\myApp .\\myApp.exe & myApp.exe /S -config "my app_config" & exit /b 3010'

    def script(text: str) -> tuple[bytes, bytes, int]:
        return "installé\r\n".encode(), b"warning\r\n", 3010

    with serve(Replay(script)) as replay:
        win = channel(replay)
        done = win.run(command)
        win.close()
    assert replay.commands == [command]  # exactly as written: cmd.exe /c gets it as is
    assert (done.exit_code, done.text, done.error_text) == (3010, "installé\r\n", "warning\r\n")
    assert replay.options["WINRS_CODEPAGE"] == str(UTF8_CODEPAGE)
    assert replay.actions == ["Create", "Command", "Receive", "Receive", "Signal", "Delete"]


def test_a_quiet_command_outlasts_the_operation_timeout() -> None:
    with serve(Replay(lambda c: (b"done\r\n", b"", 0), slow={"long"})) as replay:
        assert channel(replay).run("long").text == "done\r\n"
    assert replay.actions.count("Receive") == 3


def test_a_command_past_its_timeout_is_signalled_and_reported() -> None:
    with serve(Replay(ok, slow={"hang"})) as replay, pytest.raises(GuestUnreachable) as caught:
        channel(replay).run("hang", timeout=0)
    assert str(caught.value) == "winrm command [win-box]: 'hang': no end after 0s"
    assert replay.actions[-1] == "Signal"


def test_put_sends_base64_chunks_then_certutil() -> None:
    data = os.urandom(CHUNK_CHARS)  # 8000 base64 characters: two chunks
    path = "C:\\Program Files (x86)\\vmapp\\agent.py"
    with serve(Replay(ok)) as replay:
        channel(replay).put(data, path)
    first, *echoes, last = replay.commands
    assert first == ('(if not exist "C:\\Program Files (x86)\\vmapp\\*" mkdir '
                     '"C:\\Program Files (x86)\\vmapp") & type nul> "' + path + '.b64"')
    assert len(echoes) == 2
    sent = "".join(e.removeprefix("echo ").removesuffix(f'>> "{path}.b64"') for e in echoes)
    assert base64.b64decode(sent) == data
    assert last == f'certutil -f -decode "{path}.b64" "{path}" >nul && del "{path}.b64"'


def test_put_that_certutil_refuses_is_an_infrastructure_error() -> None:
    def script(command: str) -> tuple[bytes, bytes, int]:
        if command.startswith("certutil"):
            return b"", b"CertUtil: -decode command FAILED: 0x80070005 (WIN32: 5)\r\n", 5
        return b"", b"", 0

    with serve(Replay(script)) as replay, pytest.raises(InfrastructureError) as caught:
        channel(replay).put(b"x", "C:\\vmapp\\x")
    assert "winrm upload [win-box]" in str(caught.value)
    assert "exited 5: CertUtil: -decode command FAILED" in str(caught.value)


def test_get_reads_certutil_encode_output() -> None:
    data = bytes(range(256)) * 3
    text = base64.b64encode(data).decode()
    lines = [text[i:i + 64] for i in range(0, len(text), 64)]
    printed = "\r\n".join(["-----BEGIN CERTIFICATE-----", *lines, "-----END CERTIFICATE-----",
                           ""]).encode()
    with serve(Replay(lambda c: (printed, b"", 0))) as replay:
        assert channel(replay).get("C:\\vmapp\\status\\0.status") == data
    assert replay.commands == [
        'certutil -f -encode "C:\\vmapp\\status\\0.status" "C:\\vmapp\\status\\0.status.b64" '
        '>nul && type "C:\\vmapp\\status\\0.status.b64" && del '
        '"C:\\vmapp\\status\\0.status.b64"']


def test_rejected_credentials_are_an_infrastructure_error() -> None:
    with serve(Replay(ok)) as replay, pytest.raises(InfrastructureError) as caught:
        channel(replay, password="wrong")
    assert not isinstance(caught.value, GuestUnreachable)
    assert "winrm connect [win-box]" in str(caught.value)
    assert "credentials were rejected" in str(caught.value)


def test_nothing_listening_is_guest_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(GuestUnreachable) as caught:
        WinRmChannel(host="127.0.0.1", port=port, user=USER, password=PASSWORD, vm="win-box")
    assert str(caught.value).startswith(f"winrm connect [win-box]: http://127.0.0.1:{port}/wsman")


def test_no_reverse_forwards_over_winrm() -> None:
    with serve(Replay(ok)) as replay, pytest.raises(InfrastructureError) as caught:
        channel(replay).forward_to_host(10000)
    assert "WinRM cannot carry host port 10000" in str(caught.value)


def test_a_failed_upload_chunk_is_reported_without_its_data() -> None:
    """A chunk is base64 of the file (a goal state holds SAS URLs no redaction finds once
    encoded): the error names the chunk's size, not its text."""
    secret = b'{"url": "https://x/blob?sig=SECRET"}'

    def script(command: str) -> tuple[bytes, bytes, int]:
        return (b"", b"The system cannot find the path specified.\r\n", 1) \
            if command.startswith("echo ") else (b"", b"", 0)

    with serve(Replay(script)) as replay, pytest.raises(InfrastructureError) as caught:
        channel(replay).put(secret, "C:\\vmapp\\goal.json")
    encoded = base64.b64encode(secret).decode()
    assert encoded not in str(caught.value)
    assert f"'echo <{len(encoded)} base64 characters>>> \"C:\\\\vmapp\\\\goal.json.b64\"' " \
        "exited 1: The system cannot find the path specified." in str(caught.value)
