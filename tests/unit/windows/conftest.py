"""One real wine prefix for the Windows tests (about 7 s to create), with the launcher in it.

Nothing here is mocked: commands run in wine's cmd.exe through the launcher built with mingw,
packages are built with wixl and makensis and installed with wine's msiexec.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.images.launcher import build_launcher
from harness.machines.wine import WineChannel


@pytest.fixture(scope="session")
def launcher(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_launcher(cache=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def wine(tmp_path_factory: pytest.TempPathFactory, launcher: Path) -> Iterator[WineChannel]:
    channel = WineChannel(tmp_path_factory.mktemp("wine") / "prefix", launcher)
    yield channel
    channel.close()
