"""Load scenario files: jinja2, YAML with line numbers, every error at once, then model objects."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

import jinja2

from harness.errors import ConfigError, ConfigErrors
from harness.scenario import model
from harness.scenario.apps import DEFAULT_LOCATION, applications
from harness.scenario.schema import INCLUDED, SCENARIO
from harness.scenario.steps import StepBuilder
from harness.schema import Validator
from harness.yamldoc import YamlDoc, load_text

DEFAULT_IMAGES = ("debian-12",)


def _template_line(trace: TracebackType | None, template: str) -> int | None:
    """The template line a render error came from (jinja2 adds the template's own frames)."""
    line = None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == template:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


def render(path: Path) -> str:
    """The file after jinja2 (strict: an undefined name is an error, not an empty string)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path.parent)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.get_template(path.name).render()
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(problem="cannot read: no such file", file=str(path)) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(problem=f"template error: {exc.message}", file=str(path),
                          line=exc.lineno) from exc
    except jinja2.TemplateError as exc:
        raise ConfigError(problem=f"template error: {exc}", file=str(path),
                          line=_template_line(exc.__traceback__, os.path.normpath(path))) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(problem=f"cannot read: {exc}", file=str(path)) from exc


def _load(path: Path) -> YamlDoc:
    return load_text(render(path), str(path))


def _includes(main: Validator, scenario: Path) -> list[Validator]:
    """Each included file, loaded and checked against :data:`INCLUDED`; errors join the main's."""
    data = main.doc.data
    entries = data.get("include", []) if isinstance(data, dict) and main.clean(("include",)) \
        else []
    found = []
    for index, entry in enumerate(entries):
        path = Path(os.path.normpath(scenario.parent / entry))
        if not path.is_file():
            main.fail(("include", index), f"no such file {path} (paths are relative to the "
                      "scenario file)")
            continue
        try:
            check = Validator(_load(path), main.errors)
        except ConfigError as exc:
            main.errors.append(exc)
            continue
        check.mapping(check.doc.data, INCLUDED)
        found.append(check)
    return found


def load_scenario(path: Path) -> model.Scenario:
    """Parse and validate one file and its includes; raises ConfigErrors listing every problem."""
    main = Validator(_load(path))
    main.mapping(main.doc.data, SCENARIO)
    data = main.doc.data if isinstance(main.doc.data, dict) else {}
    gallery = data.get("gallery") if main.clean(("gallery",)) else None
    location = (gallery or {}).get("location", DEFAULT_LOCATION)
    names, apps = applications([*_includes(main, path), main], location)
    if not names and main.clean(("gallery",)):
        main.fail(("gallery",), "no applications: define gallery.applications or include a "
                  "file that does")
    steps = StepBuilder(main, names, apps).steps(data.get("steps"))
    if main.errors:
        raise ConfigErrors(sorted(main.errors, key=lambda e: (e.file != main.doc.file, e.file,
                                                              e.line or 0)))
    agent = data.get("agent", {})
    return model.Scenario(
        name=path.stem, file=path, description=data["description"],
        images=tuple(data.get("images", DEFAULT_IMAGES)), location=location,
        vm_location=data.get("vm", {}).get("location", location),
        ready_seconds=data.get("vm", {}).get("ready_seconds"),
        apps=apps, steps=tuple(steps), markers=tuple(data.get("markers", ())),
        rule=" ".join(data.get("rule", "").split()),
        command_timeout=agent.get("commandTimeoutSeconds", 900),
        interpreter=agent.get("interpreter", "/bin/sh"),
        config_naming=agent.get("configNaming", "underscore"))


def load_all(paths: list[Path]) -> list[model.Scenario]:
    """Load every file; if any is invalid, report all files' errors together."""
    scenarios: list[model.Scenario] = []
    errors: list[ConfigError] = []
    for path in paths:
        try:
            scenarios.append(load_scenario(path))
        except ConfigErrors as exc:
            errors.extend(exc.errors)
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise ConfigErrors(errors)
    return scenarios


def scenario_files(targets: list[Path]) -> list[Path]:
    """Expand folders to their ``*.yaml`` files (sorted); keep files as given."""
    files: list[Path] = []
    for target in targets:
        if target.is_dir():
            files += sorted(target.glob("*.yaml"))
        elif target.exists():
            files.append(target)
        else:
            raise ConfigError(problem="no such scenario file or folder", file=str(target))
    return files
