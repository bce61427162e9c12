"""Load scenario files: jinja2, YAML with line numbers, every error at once, then model objects."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2

from harness import sandbox
from harness.confine import inside
from harness.errors import ConfigError, ConfigErrors
from harness.gallery.names import region_key
from harness.gallery.regions import KNOWN_REGIONS
from harness.images.recipe import unknown_image
from harness.scenario import model
from harness.scenario.apps import DEFAULT_LOCATION, applications
from harness.scenario.images import gallery_images, vm_image
from harness.scenario.schema import INCLUDED, SCENARIO
from harness.scenario.steps import StepBuilder
from harness.schema import Validator, suggest
from harness.yamldoc import YamlDoc, load_text

DEFAULT_IMAGES = ("debian-12",)
# A scenario file, and its text after jinja2, is at most this many bytes/characters: PyYAML
# reads about 0.5 MB a second, and no scenario needs more.
MAX_SCENARIO = 256 * 1024


def _template_line(trace: TracebackType | None, template: str) -> int | None:
    """The template line a render error came from (jinja2 adds the template's own frames)."""
    line = None
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == template:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


class _Loader(jinja2.FileSystemLoader):
    """Templates (the file itself, its ``{% include %}``s) only from inside ``root``."""

    def __init__(self, root: Path) -> None:
        super().__init__(str(root))
        self.root = root

    def get_source(self, environment: jinja2.Environment,
                   template: str) -> tuple[str, str, Callable[[], bool]]:
        path = inside(self.root, template)
        if path.is_file() and path.stat().st_size > MAX_SCENARIO:
            raise ConfigError(problem=f"{template!r} is larger than {MAX_SCENARIO} bytes")
        return super().get_source(environment, template)


def render(path: Path, root: Path) -> str:
    """The file after jinja2's sandbox (strict: an undefined name is an error, not an empty
    string); ``root`` is the scenario's folder, which templates may not leave."""
    env = sandbox.environment(_Loader(root))
    try:
        name = path.relative_to(root).as_posix()
        return sandbox.render(env.get_template(name), MAX_SCENARIO)
    except ConfigError as exc:
        raise ConfigError(problem=f"template: {exc.problem}", file=str(path)) from None
    except jinja2.TemplateNotFound as exc:
        raise ConfigError(problem="cannot read: no such file", file=str(path)) from exc
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(problem=f"template error: {exc.message}", file=str(path),
                          line=exc.lineno) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(problem=f"cannot read: {exc}", file=str(path)) from exc
    except Exception as exc:  # a template can raise anything Python can: 1/0, 'a'+1, ...
        text = str(exc) if isinstance(exc, jinja2.TemplateError) else \
            f"{type(exc).__name__}: {exc}"
        raise ConfigError(problem=f"template error: {text}", file=str(path),
                          line=_template_line(exc.__traceback__, os.path.normpath(path))) \
            from exc


def _load(path: Path, root: Path) -> YamlDoc:
    return load_text(render(path, root), str(path))


def _includes(main: Validator, scenario: Path) -> list[Validator]:
    """Each included file, loaded and checked against :data:`INCLUDED`; errors join the main's."""
    data = main.doc.data
    entries = data.get("include", []) if isinstance(data, dict) and main.clean(("include",)) \
        else []
    found = []
    root = scenario.parent
    for index, entry in enumerate(entries):
        try:
            path = root / inside(root, entry).relative_to(root.resolve())
        except ConfigError as exc:
            main.fail(("include", index), exc.problem)
            continue
        if not path.is_file():
            main.fail(("include", index), f"no such file {path} (paths are relative to the "
                      "scenario file)")
            continue
        try:
            check = Validator(_load(path, root), main.errors)
        except ConfigError as exc:
            main.errors.append(exc)
            continue
        check.mapping(check.doc.data, INCLUDED)
        found.append(check)
    return found


def _images(main: Validator, data: dict[str, Any]) -> None:
    """Every image named has a recipe (images/*.yaml), once; an empty list runs nothing."""
    if "images" not in data or not main.clean(("images",)):
        return
    if not data["images"]:
        main.fail(("images",), "no images: name at least one, or leave 'images' out for "
                  f"the default ({', '.join(DEFAULT_IMAGES)})")
    for index, name in enumerate(data["images"]):
        problem = unknown_image(name)
        if problem is not None:
            main.fail(("images", index), problem)
        elif name in data["images"][:index]:
            main.fail(("images", index), f"{name!r} is listed twice")


def load_scenario(path: Path) -> model.Scenario:
    """Parse and validate one file and its includes; raises ConfigErrors listing every problem."""
    main = Validator(_load(path, path.parent))
    main.mapping(main.doc.data, SCENARIO)
    data = main.doc.data if isinstance(main.doc.data, dict) else {}
    _images(main, data)
    gallery = data.get("gallery") if main.clean(("gallery",)) else None
    location = (gallery or {}).get("location", DEFAULT_LOCATION)
    if region_key(location) not in KNOWN_REGIONS:
        main.fail(("gallery", "location"), f"unknown region {location!r}"
                  f"{suggest(region_key(location), sorted(KNOWN_REGIONS))}")
    names, apps = applications([*_includes(main, path), main], location, path.parent)
    if not names and main.clean(("gallery",)):
        main.fail(("gallery",), "no applications: define gallery.applications or include a "
                  "file that does")
    steps = StepBuilder(main, names, path.parent, apps).steps(data.get("steps"))
    image = vm_image(main, data)
    published = gallery_images(main, data)
    if main.errors:
        raise ConfigErrors(sorted(main.errors, key=lambda e: (e.file != main.doc.file, e.file,
                                                              e.line or 0)))
    agent = data.get("agent", {})
    return model.Scenario(
        name=path.stem, file=path, description=data["description"],
        images=tuple(data.get("images", [image.definition] if image and image.definition
                              else DEFAULT_IMAGES)), location=location,
        vm_location=data.get("vm", {}).get("location", location),
        ready_seconds=data.get("vm", {}).get("ready_seconds"),
        apps=apps, steps=tuple(steps), markers=tuple(data.get("markers", ())),
        rule=" ".join(data.get("rule", "").split()),
        command_timeout=agent.get("commandTimeoutSeconds", 900),
        interpreter=agent.get("interpreter", "/bin/sh"),
        config_naming=agent.get("configNaming", "underscore"), vm_image=image,
        gallery_images=published)


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
        try:
            if target.is_dir():
                files += sorted(target.glob("*.yaml"))
            elif target.exists():
                files.append(target)
            else:
                raise ConfigError(problem="no such scenario file or folder", file=str(target))
        except OSError as exc:  # a name over 255 bytes, a folder that cannot be read
            raise ConfigError(problem=f"cannot read: {exc.strerror}", file=str(target)) from None
    return files
