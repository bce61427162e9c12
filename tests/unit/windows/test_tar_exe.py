"""The stand-in's tar.exe (images/windows/vmapp-tar.c) under real wine, at
C:\\windows\\system32\\tar.exe as the stand-in guest puts it: zip extraction the way Windows'
bsdtar does it, and a non-zero exit with a message for everything it cannot do."""

from __future__ import annotations

import io
import time
import zipfile

import pytest

from harness.machines.wine import WineChannel

HERE = "C:\\tar-test"
DATE = (2023, 11, 14, 8, 30, 0)


class _Unseekable(io.RawIOBase):
    """A stream zipfile cannot seek back in: it then writes data descriptors after each entry
    (sizes and CRC not in the local header), which only the central directory gives back."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def _zip(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED,
         streamed: bool = False) -> bytes:
    """A zip of ``entries`` (a name ending in / is a folder); ``streamed``: data descriptors."""
    out: io.BytesIO | _Unseekable = _Unseekable() if streamed else io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=DATE)
            info.compress_type = zipfile.ZIP_STORED if name.endswith("/") else method
            archive.writestr(info, data)
    return bytes(out.data) if isinstance(out, _Unseekable) else out.getvalue()


def _tar(wine: WineChannel, args: str) -> tuple[int, str]:
    """``tar ARGS`` in HERE, as a package's command runs it: its exit code and stderr.  HERE is
    made first: under pytest-xdist a worker may run a test here before any that puts a file
    there (seen: cmd's "File not found." from `cd /d` in place of tar's message)."""
    wine.host_path(HERE).mkdir(parents=True, exist_ok=True)
    done = wine.run(f"cd /d {HERE} & tar {args}")
    return done.exit_code, done.error_text


def test_extracts_stored_and_deflated_entries_and_folders_with_each_syntax(
        wine: WineChannel) -> None:
    stored = _zip({"app/": b"", "app/stored.txt": b"stored\r\n"}, method=zipfile.ZIP_STORED)
    wine.put(stored, f"{HERE}\\stored.zip")
    deflated = _zip({"app/bin/run.cmd": b"@echo deflated\r\n" * 500,
                     "données/é.txt": "é".encode()}, streamed=True)
    assert deflated[6] & 0x08  # the first local header's flags: sizes in a data descriptor
    wine.put(deflated, f"{HERE}\\deflated.zip")
    wine.run(" & ".join(f"mkdir {HERE}\\out{number}" for number in range(1, 6)))
    for args in ("-xf stored.zip -C C:\\tar-test\\out1", "xf stored.zip -C out2",
                 "-xvf deflated.zip --directory C:\\tar-test\\out3",
                 "-x -f deflated.zip --directory=out4",
                 "--extract --file=deflated.zip -C C:\\tar-test -C out5"):
        assert _tar(wine, args)[0] == 0, args
    assert wine.get(f"{HERE}\\out1\\app\\stored.txt") == b"stored\r\n"
    assert wine.host_path(f"{HERE}\\out2\\app").is_dir()
    for out in ("out3", "out4", "out5"):
        assert wine.get(f"{HERE}\\{out}\\app\\bin\\run.cmd") == b"@echo deflated\r\n" * 500
        assert wine.get(f"{HERE}\\{out}\\données\\é.txt") == "é".encode()
    assert wine.run(f"{HERE}\\out3\\app\\bin\\run.cmd").text.startswith("deflated")
    assert _tar(wine, "-xvf stored.zip -C out1")[1] == "x app/\r\nx app/stored.txt\r\n"
    wine.put(b"", f"{HERE}\\empty.zip")
    assert _tar(wine, "-xf empty.zip -C out1") == (0, "")  # bsdtar: an empty archive
    # the DOS time of the entry, read as local time like bsdtar does
    modified = wine.host_path(f"{HERE}\\out1\\app\\stored.txt").stat().st_mtime
    assert modified == time.mktime((*DATE, 0, 0, -1))


def test_dot_dot_entries_are_refused_and_absolute_ones_made_relative_as_bsdtar_does(
        wine: WineChannel) -> None:
    wine.put(_zip({"ok.txt": b"ok", "../up.txt": b"up", "a/../../up2.txt": b"up",
                   "/root.txt": b"root", "C:/drive.txt": b"drive"}), f"{HERE}\\dots.zip")
    wine.run(f"mkdir {HERE}\\dots\\inner")
    code, errors = _tar(wine, "-xf dots.zip -C dots\\inner")
    assert code == 1
    assert errors.splitlines() == [
        "../up.txt: Path contains '..'", "a/../../up2.txt: Path contains '..'",
        "tar: Removing leading '/' from member names",
        "tar: Error exit delayed from previous errors."]
    inner = wine.host_path(f"{HERE}\\dots\\inner")
    assert sorted(p.name for p in inner.iterdir()) == ["drive.txt", "ok.txt", "root.txt"]
    assert not wine.host_path(f"{HERE}\\dots\\up.txt").exists()
    assert not wine.host_path(f"{HERE}\\up2.txt").exists()


def test_damaged_archives_and_write_failures_exit_1(wine: WineChannel) -> None:
    good = _zip({"f.txt": b"some text " * 50}, method=zipfile.ZIP_STORED)
    at = good.index(b"some text")
    wine.put(good[:at] + b"S" + good[at + 1:], f"{HERE}\\crc.zip")
    deflated = _zip({"f.txt": b"some text " * 50})
    at = 30 + len("f.txt")  # the data's first byte: final block, of the reserved type 3
    wine.put(deflated[:at] + b"\xff" + deflated[at + 1:], f"{HERE}\\inflate.zip")
    wine.put(good[:len(good) // 2], f"{HERE}\\cut.zip")
    wine.put(_zip({"block/f.txt": b"x"}), f"{HERE}\\block.zip")
    wine.put(b"a file where a folder must go", f"{HERE}\\blocked\\block")
    for args, message in (
            ("-xf crc.zip -C blocked", "f.txt: ZIP bad CRC: 0x"),
            ("-xf inflate.zip -C blocked", "f.txt: ZIP decompression failed (-3)"),
            ("-xf cut.zip", "tar: Error opening archive: Unrecognized archive format"),
            ("-xf none.zip", "tar: Error opening archive: Failed to open 'none.zip'"),
            ("-xf block.zip -C blocked", "block/f.txt: Can't create directory 'block'"),
            ("-xf block.zip -C nowhere", "tar: could not chdir to 'nowhere'")):
        code, errors = _tar(wine, args)
        assert (code, errors.splitlines()[0][:len(message)]) == (1, message), args


@pytest.mark.parametrize(("args", "message"), [
    ("-cf new.zip f.txt", "tar: Option -c is not supported by the stand-in's tar.exe"),
    ("-tf any.zip", "tar: Option -t is not supported by the stand-in's tar.exe"),
    ("-xzf any.zip", "tar: Option -z is not supported by the stand-in's tar.exe"),
    ("-xf any.zip f.txt", "tar: 'f.txt': name patterns are not supported by"),
    ("-x", "tar: -f FILE is required by the stand-in's tar.exe"),
    ("-f any.zip", "tar: Must specify one of -c, -r, -t, -u, -x"),
    ("-xf bzip2.zip", "f.txt: Unsupported ZIP compression method (12: bzip2)"),
])
def test_what_it_cannot_do_exits_1_with_a_message(wine: WineChannel, args: str,
                                                   message: str) -> None:
    if "bzip2" in args:
        wine.put(_zip({"f.txt": b"x"}, method=zipfile.ZIP_BZIP2), f"{HERE}\\bzip2.zip")
    code, errors = _tar(wine, args)
    assert (code, errors.splitlines()[0][:len(message)]) == (1, message)
