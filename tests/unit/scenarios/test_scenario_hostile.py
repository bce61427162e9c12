"""Hostile or careless scenario files: one clean line per problem (file:line field), never a
traceback, and nothing accepted here that could only fail once a VM runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from harness import cli
from harness.errors import ConfigError, ConfigErrors
from harness.scenario.load import load_scenario

V = "gallery.applications.a.versions.1.0.0"


def scenario(folder: Path, *, head: str = "description: d\n", app: str = "a",
             version: str = "1.0.0", body: str = "", steps: str = "  - reboot:\n") -> Path:
    path = folder / "s.yaml"
    path.write_text(f"{head}gallery:\n  applications:\n    {app}:\n      versions:\n"
                    f"        {version}: {{package: {{content: x}}, install: i, remove: r"
                    f"{body}}}\nsteps:\n{steps}")
    return path


def errors(path: Path) -> list[str]:
    start = time.monotonic()
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        load_scenario(path)
    assert time.monotonic() - start < 2
    found = caught.value
    return [str(e) for e in (found.errors if isinstance(found, ConfigErrors) else [found])]


@pytest.mark.parametrize(("description", "problem"), [
    ("{{ 1/0 }}", ":1: template error: ZeroDivisionError: division by zero"),
    ("{{ 'a' + 1 }}", ':1: template error: TypeError: can only concatenate str (not "int") '
                      "to str"),
    ("x\n{{ [1][5] }}", ":2: template error: list object has no element 5"),
    ("{{ (2 ** 30000) | string }}", ":1: template error: ValueError: Exceeds the limit (4300 "
                                  "digits) for integer string conversion; use "
                                  "sys.set_int_max_str_digits() to increase the limit"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}",
     ":1: template error: RecursionError: maximum recursion depth exceeded"),
])
def test_template_runtime_errors_are_one_line(tmp_path: Path, description: str,
                                              problem: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"description: \"{description}\"\nsteps: []\n")
    (error,) = errors(path)
    assert error.startswith(f"{path}{problem}"), error


@pytest.mark.parametrize(("head", "problem"), [
    ("description: " + "[" * 3000 + "]" * 3000 + "\n", ":1: nested more than 64 levels deep"),
    ("description: &a [*a]\n", ":1 description[0][0][0]"),
    ("x0: &x0 [y, y, y, y, y, y, y, y, y, y]\n" + "".join(
        f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]\n" for i in range(1, 9)),
     ":1 x4[7][8][8][8][9]: more than 100000 values"),
    ('description: "\\ud800"\n', ":1 description: contains the character '\\ud800'"),
])
def test_hostile_yaml(tmp_path: Path, head: str, problem: str) -> None:
    (error, *_) = errors(scenario(tmp_path, head=head))
    assert error.startswith(f"{tmp_path / 's.yaml'}{problem}"), error


@pytest.mark.parametrize(("kw", "problem"), [
    ({"steps": "  - wait: .nan\n"}, ":8 steps[0].wait: must be a finite number, got nan"),
    ({"steps": "  - wait: -.inf\n"}, ":8 steps[0].wait: must be a finite number, got -inf"),
    ({"body": ", packageFileName: p, configFileName: p"},
     f":6 {V}.configFileName: 'p' is also the package's file name; the config would "
     "overwrite the package"),
    ({"body": ", configFileName: a"},
     f":6 {V}.configFileName: 'a' is also the package's file name; the config would "
     "overwrite the package"),
    ({"head": "description: d\nimages: []\n"},
     ":2 images: no images: name at least one, or leave 'images' out for the default "
     "(debian-12)"),
    ({"head": "description: d\nimages: [debian-12, debain-13]\n"},
     ":2 images[1]: no image recipe named 'debain-13' (did you mean 'debian-13'?) "
     "(known: debian-11, debian-12, debian-13, debian-testing, windows-wine)"),
    ({"head": "description: d\nimages: [debian-12, debian-12]\n"},
     ":2 images[1]: 'debian-12' is listed twice"),
    ({"app": "'bad name'"}, ":4 gallery.applications.bad name: the gallery refuses the "
     "application name 'bad name' (1 to 117 letters, digits, '-', '.' and '_', not ending "
     "in '.')"),
    ({"app": '"a\\n"'}, ":4 gallery.applications['a\\n']: the gallery refuses the application "
     "name 'a\\n'"),
    ({"app": "a."}, ":4 gallery.applications.a.: the gallery refuses the application name"),
    ({"version": "١.٠.٠"}, ":6 gallery.applications.a.versions.١.٠.٠: version '١.٠.٠' is not "
     "Major.Minor.Patch (whole numbers of ASCII digits up to 2147483647, e.g. 1.0.0)"),
    ({"version": "1.0.2147483648"}, ":6 gallery.applications.a.versions.1.0.2147483648: "
     "version '1.0.2147483648' is not Major.Minor.Patch"),
    ({"steps": "  - expect: {checks: [{file: /x, mode: 99999}]}\n"},
     ":8 steps[0].expect.checks[0].mode: 99999 is not a file mode (at most 0o7777); write "
     "modes quoted, like \"0755\""),
    ({"steps": "  - expect: {checks: [{command: 'true', exit_code: 256}]}\n"},
     ":8 steps[0].expect.checks[0].exit_code: must be at most 255, got 256"),
])
def test_refused_at_validation(tmp_path: Path, kw: dict[str, str], problem: str) -> None:
    (error,) = errors(scenario(tmp_path, **kw))
    assert error.startswith(f"{tmp_path / 's.yaml'}{problem}"), error


def test_unknown_gallery_location_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("description: d\ngallery:\n  location: East Us2\n  applications:\n"
                    "    a:\n      versions:\n"
                    "        1.0.0: {package: {content: x}, install: i, remove: r}\n"
                    "steps:\n  - reboot:\n")
    assert load_scenario(path).location == "East Us2"  # ARM's names: spaces and case ignored
    path.write_text(path.read_text().replace("East Us2", "eastus? k"))
    assert errors(path) == [f"{path}:3 gallery.location: unknown region 'eastus? k' (did you "
                            "mean 'eastus'?)"]


def test_cli_image_is_checked_before_anything_starts(
        no_spawn: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scenario(tmp_path)
    assert cli.main(["run", str(path), "--image", "debain-12"]) == 2
    assert capsys.readouterr().err == ("vmapp: --image: no image recipe named 'debain-12' "
                                       "(did you mean 'debian-12'?) (known: debian-11, debian-12, "
                                       "debian-13, debian-testing, windows-wine)\n")


def test_cli_scenario_name_over_255_bytes(no_spawn: None, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    long = tmp_path / ("x" * 300 + ".yaml")
    assert cli.main(["run", str(long)]) == 2
    assert capsys.readouterr().err == f"vmapp: {long}: cannot read: File name too long\n"
