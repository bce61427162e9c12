"""Secrets out of report files: SAS signatures and account keys, in text and in tarballs."""

from __future__ import annotations

import io
import random
import tarfile

import pytest

from harness.redact import redact_bytes, redact_tar_gz, redact_text
from harness.storage.azurite import DEV_KEY

SAS = ("http://127.0.0.1:10000/devstoreaccount1/pkgs/go_linux?sv=2023-11-03&se=2026-12-03T13"
       "%3A00%3A00Z&sr=b&sp=r&sig=AbC%2Bde%2Ffg%3D")


@pytest.mark.parametrize(("text", "expected"), [
    (SAS, SAS.replace("sig=AbC%2Bde%2Ffg%3D", "sig=REDACTED")),
    ("a?SIG=x+y/z==&b=1", "a?SIG=REDACTED&b=1"),
    ('{"url": "h?sp=r&sig=abc"}', '{"url": "h?sp=r&sig=REDACTED"}'),
    ("h?sp=r&amp;sig=abc&amp;x=1", "h?sp=r&amp;sig=REDACTED&amp;x=1"),
    ("h%3Fsp%3Dr%26sig%3Dabc%2B", "h%3Fsp%3Dr%26sig%3DREDACTED"),
    ("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=abc/+==;BlobEndpoint=x",
     "DefaultEndpointsProtocol=http;AccountName=a;AccountKey=REDACTED;BlobEndpoint=x"),
    (f"key {DEV_KEY} end", "key REDACTED end"),
    ("design=1 signal=2 sha256:" + "a" * 64, "design=1 signal=2 sha256:" + "a" * 64),
])
def test_redact_text(text: str, expected: str) -> None:
    assert redact_text(text) == expected
    assert redact_text(expected) == expected  # idempotent


def test_redact_bytes_keeps_bytes_that_are_not_utf8() -> None:
    assert redact_bytes(b"\xff\xfe sig=abc \xff") == b"\xff\xfe sig=REDACTED \xff"


def tar_gz(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        folder = tarfile.TarInfo("var/lib/x")
        folder.type = tarfile.DIRTYPE
        tar.addfile(folder)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o600, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def members(archive: bytes) -> dict[str, tuple[bytes, int, int]]:
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
        return {m.name: ((f.read() if (f := tar.extractfile(m)) else b""), m.mode, m.mtime)
                for m in tar}


def test_redact_tar_gz_rewrites_text_members_only() -> None:
    binary = b"\x1f\x8b\x00 sig=keep-binary-as-is"
    archive = tar_gz({"var/lib/x/0.settings": f'{{"url": "{SAS}"}}'.encode(),
                      "var/lib/x/go_linux": binary})
    found = members(redact_tar_gz(archive))
    assert list(found) == ["var/lib/x", "var/lib/x/0.settings", "var/lib/x/go_linux"]
    text, mode, mtime = found["var/lib/x/0.settings"]
    assert b"sig=REDACTED" in text and b"AbC" not in text
    assert (mode, mtime) == (0o600, 1_700_000_000)
    assert found["var/lib/x/go_linux"][0] == binary


def test_redact_tar_gz_of_a_cut_archive_keeps_only_what_it_could_read() -> None:
    assert redact_tar_gz(b"") == b""
    archive = tar_gz({"a.txt": b"sig=abc", "b.bin": bytes(range(256)) * 400})
    cut = redact_tar_gz(archive[: len(archive) // 2])
    assert all(b"sig=abc" not in data for data, _, _ in members(cut).values())
    assert members(redact_tar_gz(b"not a tarball")) == {}


def test_redact_tar_gz_of_damaged_archives_never_raises() -> None:
    rng = random.Random(14)
    archive = tar_gz({"a.txt": b"sig=abc " * 1000, "b.bin": rng.randbytes(50_000)})
    for _ in range(200):
        damaged = bytearray(archive)
        for _ in range(3):
            damaged[rng.randrange(10, len(damaged))] = rng.randrange(256)
        for data, _, _ in members(redact_tar_gz(bytes(damaged))).values():
            assert b"sig=abc" not in data
