"""Windows packages built from scenarios/packages with wixl and makensis, then really installed
and removed by wine's msiexec and by the NSIS installer, checked with reg and the files."""

from __future__ import annotations

import io
import struct
import zipfile

from windows_guest import MSIEXEC, UNINSTALL, build, deploy, run_in, wait_until_gone

from harness.checks_windows import installed_products
from harness.errors import InfrastructureError
from harness.machines.wine import WineChannel

MSI_CODE = "{{8C6D2A4E-6A31-4C0B-9F4E-{:012d}}}"
NSIS_KEY = f"{UNINSTALL}\\VmappNsisHello"


def machine(pe: bytes) -> int:
    offset = struct.unpack_from("<I", pe, 0x3C)[0]
    assert pe[offset:offset + 4] == b"PE\0\0"
    return int(struct.unpack_from("<H", pe, offset + 4)[0])


def test_msi_installs_registers_and_removes(wine: WineChannel) -> None:
    msi = build("msi-hello", "msi", "1.2.0")
    assert msi[:8] == bytes.fromhex("d0cf11e0a1b11ae1")  # an OLE compound file, as MSIs are
    done = deploy(wine, "msiapp", "1.2.0", msi,
                  f"{MSIEXEC} /i msiapp /quiet /log msiapp_install.log")
    assert done.exit_code == 0, done
    key = f"{UNINSTALL}\\{MSI_CODE.format(120)}"
    listed = wine.run(f'reg query "{key}"')
    assert listed.exit_code == 0
    assert "Vmapp MSI Hello" in listed.text and "1.2.0" in listed.text
    hello = "C:\\Program Files\\VmappMsiHello\\hello.txt"
    assert wine.get(hello) == b"vmapp msi hello 1.2.0\n"
    assert wine.get("C:\\Packages\\Plugins\\Microsoft.CPlat.Core.VMApplicationManagerWindows"
                    "\\1.0.9\\Downloads\\msiapp\\1.2.0\\msiapp_install.log")
    removed = run_in(wine, "msiapp", "1.2.0", f"{MSIEXEC} /x msiapp /quiet /log x.log")
    assert removed.exit_code == 0
    assert wine.run(f'reg query "{key}"').exit_code != 0
    assert not wine.host_path(hello).exists()
    again = run_in(wine, "msiapp", "1.2.0", f"{MSIEXEC} /x {MSI_CODE.format(120)} /quiet")
    assert again.exit_code == 1605  # unknown product: the same code as on Windows


def test_msi_that_schedules_a_reboot_exits_3010_with_norestart(wine: WineChannel) -> None:
    msi = build("msi-hello", "msi", "1.3.0", reboot="yes")
    done = deploy(wine, "rebootapp", "1.3.0", msi, f"{MSIEXEC} /i rebootapp /quiet /norestart")
    assert done.exit_code == 3010
    assert wine.run(f'reg query "{UNINSTALL}\\{MSI_CODE.format(130)}"').exit_code == 0
    removed = run_in(wine, "rebootapp", "1.3.0", f"{MSIEXEC} /x rebootapp /quiet /norestart")
    assert removed.exit_code == 3010


def test_nsis_exe_the_seeds_way_with_config_and_uninstaller(wine: WineChannel) -> None:
    exe = build("nsis-hello", "exe", "2.0.0")
    assert machine(exe) == 0x8664
    done = deploy(wine, "myApp", "2.0.0", exe,
                  "move .\\myApp .\\myApp.exe & myApp.exe /S -config myApp_config",
                  config=b"licence=42\r\n")
    assert done.exit_code == 0, done
    values = wine.run(f'reg query "{NSIS_KEY}"').text
    assert "Vmapp NSIS Hello" in values and "2.0.0" in values
    uninstall = '"C:\\Program Files\\VmappNsisHello\\uninstall.exe" /S'
    assert f"UninstallString    REG_SZ    {uninstall}" in values
    assert wine.get("C:\\Program Files\\VmappNsisHello\\hello.txt") == b"vmapp nsis hello 2.0.0\n"
    assert wine.get("C:\\Program Files\\VmappNsisHello\\config.txt") == b"licence=42\r\n"
    assert wine.run(uninstall).exit_code == 0  # the UninstallString is the remove command
    assert wait_until_gone(wine, NSIS_KEY)
    assert not wine.host_path("C:\\Program Files\\VmappNsisHello\\hello.txt").exists()


def test_nsis_exe_fails_when_its_config_is_missing(wine: WineChannel) -> None:
    done = deploy(wine, "noconf", "2.0.1", build("nsis-hello", "exe", "2.0.1"),
                  "move .\\noconf .\\noconf.exe & noconf.exe /S -config noconf_config")
    assert done.exit_code == 2
    assert wine.run(f'reg query "{NSIS_KEY}"').exit_code != 0


def test_32_bit_nsis_exits_0_and_installs_nothing_under_wine64(wine: WineChannel) -> None:
    """The false pass the stand-in must refuse (harness.machines.standin reads the PE)."""
    exe = build("nsis-hello", "exe", "2.1.0", target="x86-unicode")
    assert machine(exe) == 0x14C
    done = deploy(wine, "app32", "2.1.0", exe, "move .\\app32 .\\app32.exe & app32.exe /S")
    assert done.exit_code == 0
    assert wine.run(f'reg query "{NSIS_KEY}"').exit_code != 0


def test_malformed_installers_fail(wine: WineChannel) -> None:
    """They fail here as on Windows, though with other codes (msiexec 1627 here, 1620 there;
    cmd 9009 here, "not a valid Win32 application" there): assert the failure, not the code."""
    msi = build("malformed-installer", "file", "1.0.0", member="setup.msi")
    done = deploy(wine, "badmsi", "1.0.0", msi, f"{MSIEXEC} /i badmsi /quiet")
    assert done.exit_code not in (0, 3010)
    exe = build("malformed-installer", "file", "1.0.0", member="setup.exe")
    done = deploy(wine, "badexe", "1.0.0", exe, "move .\\badexe .\\badexe.exe & badexe.exe /S")
    assert done.exit_code != 0


def test_zip_under_wine_powershell_is_a_stub_that_extracts_nothing(wine: WineChannel) -> None:
    """The seeds' zip pattern "succeeds" here and does nothing: why the stand-in refuses it."""
    data = build("zip-hello-windows", "zip", "3.0.0")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("VmappZipHello/hello.cmd") == b"@echo vmapp zip hello 3.0.0\n"
    try:
        done = deploy(wine, "myapp", "3.0.0", data,
                      'rename myapp myapp.zip & mkdir C:\\myapp & powershell.exe -Command '
                      '"Expand-Archive -path myapp.zip -destinationpath C:\\myapp"')
    except InfrastructureError as exc:
        # wine 8's stub once took the launcher down with it (wine exited 255, on CI under load):
        # no exit code then, and still nothing extracted
        assert "wrote no exit code" in str(exc)
    else:
        assert done.exit_code == 0
    assert not wine.host_path("C:\\myapp\\VmappZipHello\\hello.cmd").exists()


def test_msi_major_upgrade_replaces_and_refuses_a_downgrade(wine: WineChannel) -> None:
    def install(version: str) -> int:
        return deploy(wine, "upapp", version, build("msi-hello", "msi", version),
                      f"{MSIEXEC} /i upapp /quiet").exit_code

    def version() -> str | None:
        return installed_products(wine).get("Vmapp MSI Hello")

    assert install("5.0.0") == 0
    assert install("5.1.0") == 0
    assert version() == "5.1.0"
    assert len(wine.run(f'reg query "{UNINSTALL}"').text.split("{8C6D2A4E-")) == 2  # one key
    assert wine.get("C:\\Program Files\\VmappMsiHello\\hello.txt") == b"vmapp msi hello 5.1.0\n"
    assert install("4.9.0") == 1603  # DowngradeErrorMessage: fatal error, as on Windows
    assert version() == "5.1.0"
    assert run_in(wine, "upapp", "5.1.0", f"{MSIEXEC} /x upapp /quiet").exit_code == 0
    assert version() is None
