"""One real wine prefix for the Windows tests (about 7 s to create), with the launcher in it and
the stand-in's tar.exe where the stand-in guest puts it.

Nothing here is mocked: commands run in wine's cmd.exe through the launcher built with mingw,
packages are built with wixl and makensis and installed with wine's msiexec.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.images.mingw import LAUNCHER, TAR, build_program
from harness.machines.wine import WineChannel
from harness.machines.winestandin import TAR as TAR_PATH


@pytest.fixture(scope="session")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build cache of the session's Windows programs."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def launcher(programs: Path) -> Path:
    return build_program(LAUNCHER, cache=programs)


@pytest.fixture(scope="session")
def wine(tmp_path_factory: pytest.TempPathFactory, launcher: Path,
         programs: Path) -> Iterator[WineChannel]:
    channel = WineChannel(tmp_path_factory.mktemp("wine") / "prefix", launcher)
    channel.put(build_program(TAR, cache=programs).read_bytes(), str(TAR_PATH))
    yield channel
    channel.close()
