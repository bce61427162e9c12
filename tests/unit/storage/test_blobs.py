"""Storage against a real Azurite: blob types, SAS validity, page alignment, probes."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness import proc
from harness.errors import ConfigError, InfrastructureError
from harness.storage import azurite
from harness.storage.azurite import Azurite
from harness.storage.blobs import BlobStore, pad_to_page, probe


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BlobStore]:
    with Azurite(Path(tmp_path_factory.mktemp("azurite"))) as az:
        yield BlobStore(az.account_url, az.account, az.key)


def test_valid_sas_downloads_and_reports_size_and_type(store: BlobStore) -> None:
    store.upload("pkgs", "hello", b"hello world")
    result = probe(store.sas_url("pkgs", "hello"))
    assert (result.status, result.size, result.blob_type) == (200, 11, "BlockBlob")


def test_expired_and_missing_sas_are_forbidden(store: BlobStore) -> None:
    store.upload("pkgs", "secret", b"x")
    assert probe(store.sas_url("pkgs", "secret", expired=True)).status == 403
    assert probe(store.url("pkgs", "secret")).status == 403
    assert probe(store.url("pkgs", "secret") + "?sv=2020-01-01&sig=bogus").status == 403


def test_missing_blob_is_404(store: BlobStore) -> None:
    assert probe(store.sas_url("pkgs", "does-not-exist")).status == 404


def test_page_blob_alignment(store: BlobStore) -> None:
    with pytest.raises(ConfigError, match="not a multiple of 512; the storage said: "
                       "x-ms-content-length must be aligned to a 512-byte boundary"):
        store.upload("pkgs", "unaligned", b"abc", blob_type="PageBlob")
    assert store.upload("pkgs", "aligned", b"abc", blob_type="PageBlob", pad=True) == 512
    result = probe(store.sas_url("pkgs", "aligned"))
    assert (result.size, result.blob_type) == (512, "PageBlob")


def test_append_and_sparse_page_blobs(store: BlobStore) -> None:
    store.upload("pkgs", "log", b"abc", blob_type="AppendBlob")
    assert probe(store.sas_url("pkgs", "log")).blob_type == "AppendBlob"
    store.create_sized("pkgs", "huge", 2 * 1024**3, blob_type="PageBlob")
    assert probe(store.sas_url("pkgs", "huge")).size == 2 * 1024**3


def test_unknown_host_is_not_resolved_offline() -> None:
    result = probe("https://nosuchaccount.blob.core.windows.net/c/b")
    assert (result.status, result.error) == (None, "remote name not found")


def test_pad_to_page() -> None:
    assert len(pad_to_page(b"")) == 0
    assert len(pad_to_page(b"a" * 513)) == 1024
    assert pad_to_page(b"a" * 512) == b"a" * 512


@pytest.mark.parametrize("stop", [KeyboardInterrupt, None])
def test_an_azurite_interrupted_or_timed_out_while_starting_is_stopped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        stop: type[BaseException] | None) -> None:
    """`make soak`: a SIGINT while a run's Azurite started left it running, writing into the
    run's folder as the run removed it (the folder stayed, holding ``azurite/``)."""
    started: list[subprocess.Popen[bytes]] = []
    spawn = proc.spawn
    monkeypatch.setattr(proc, "spawn", lambda *a, **k: started.append(spawn(*a, **k))
                        or started[-1])
    if stop is not None:
        monkeypatch.setattr(azurite, "is_listening", lambda _port: (_ for _ in ()).throw(stop()))
    with pytest.raises(KeyboardInterrupt if stop else InfrastructureError):
        Azurite(tmp_path).start(timeout=0)
    assert started and started[0].poll() is not None  # not left running
