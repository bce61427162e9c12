"""Load scenario files: jinja2, YAML with line numbers, every error at once, then model objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from harness.errors import ConfigError, ConfigErrors
from harness.packages.build import SOURCES, PackageSpec
from harness.scenario import model
from harness.scenario.schema import CHECK_KINDS, SCENARIO, STEP_KEYS
from harness.schema import Validator, suggest
from harness.yamldoc import PathKey, YamlDoc, load_text

DEFAULT_IMAGES = ("debian-12",)


def render(path: Path) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(path.parent)),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    try:
        return env.get_template(path.name).render()
    except jinja2.TemplateSyntaxError as exc:
        raise ConfigError(problem=f"template error: {exc.message}", file=str(path),
                          line=exc.lineno) from exc
    except jinja2.TemplateError as exc:
        raise ConfigError(problem=f"template error: {exc}", file=str(path)) from exc
    except OSError as exc:
        raise ConfigError(problem=f"cannot read: {exc.strerror}", file=str(path)) from exc


class _Builder:
    """Validates cross-references and builds the model, collecting every error."""

    def __init__(self, doc: YamlDoc) -> None:
        self.doc = doc
        self.check = Validator(doc)

    def fail(self, path: PathKey, problem: str) -> None:
        self.check.fail(path, problem)

    def blob(self, raw: dict[str, Any] | None, path: PathKey) -> model.BlobSpec | None:
        if raw is None:
            return None
        sources = [k for k in ("source", "content", "url") if k in raw]
        if len(sources) != 1:
            self.fail(path, "give exactly one of 'source' (built from scenarios/packages), "
                      "'content' (inline text) or 'url' (an existing blob)")
            return None
        spec = None
        if "source" in raw:
            if not (SOURCES / raw["source"]).is_dir():
                self.fail((*path, "source"), f"no package source folder scenarios/packages/"
                          f"{raw['source']}{suggest(raw['source'], _sources())}")
            spec = PackageSpec(source=raw["source"], format=raw.get("format", "tar.gz"),
                               vars={k: str(v) for k, v in raw.get("vars", {}).items()},
                               member=raw.get("member", ""))
        return model.BlobSpec(package=spec, content=raw.get("content"), url=raw.get("url"),
                              blob_type=raw.get("blobType", "BlockBlob"),
                              pad=raw.get("pad", True))

    def apps(self, raw: dict[str, Any]) -> dict[str, model.AppDef]:
        apps = {}
        for name, app in raw.items():
            versions = {}
            for version, body in app["versions"].items():
                path: PathKey = ("gallery", "applications", name, "versions", version)
                if "package" not in body:
                    self.fail(path, "missing required key 'package'")
                    continue
                package = self.blob(body["package"], (*path, "package"))
                if package is None:
                    continue
                versions[str(version)] = model.VersionDef(
                    app=name, version=str(version), package=package,
                    install=body["install"], remove=body["remove"], update=body.get("update"),
                    config=self.blob(body.get("config"), (*path, "config")),
                    package_file_name=body.get("packageFileName"),
                    config_file_name=body.get("configFileName"),
                    exclude_from_latest=body.get("excludeFromLatest", False),
                    end_of_life_date=body.get("endOfLifeDate"),
                    target_regions=tuple(body.get("targetRegions", ())),
                    script_behavior_after_reboot=body.get("scriptBehaviorAfterReboot", "None"))
            apps[name] = model.AppDef(name=name, os=app.get("supportedOSType", "Linux"),
                                      versions=versions, description=app.get("description", ""))
        return apps

    def profile(self, raw: list[dict[str, Any]], path: PathKey,
                apps: dict[str, model.AppDef]) -> tuple[model.ProfileEntry, ...]:
        entries = []
        for index, item in enumerate(raw):
            where = (*path, index)
            app, version = item["app"], str(item["version"])
            if app not in apps:
                self.fail((*where, "app"), f"unknown application {app!r}"
                          f"{suggest(app, list(apps))}; define it under gallery.applications")
            elif version != "latest" and version not in apps[app].versions:
                self.fail((*where, "version"), f"application {app!r} has no version {version!r}"
                          f" (defined: {', '.join(apps[app].versions)}, or 'latest')")
            entries.append(model.ProfileEntry(
                app=app, version=version, order=item.get("order"),
                treat_failure_as_deployment_failure=item.get("treatFailureAsDeploymentFailure",
                                                             False),
                enable_automatic_upgrade=item.get("enableAutomaticUpgrade", False),
                config=self.blob(item.get("config"), (*where, "config")),
                tags=item.get("tags", "")))
        return tuple(entries)

    def checks(self, raw: list[dict[str, Any]], path: PathKey) -> tuple[model.Check, ...]:
        found = []
        for index, item in enumerate(raw):
            kinds = [k for k in CHECK_KINDS if k in item]
            if len(kinds) != 1:
                self.fail((*path, index), f"a check names exactly one of {', '.join(CHECK_KINDS)}")
                continue
            wanted = {k: v for k, v in item.items() if k != kinds[0]}
            found.append(model.Check(kind=kinds[0], target=item[kinds[0]], wanted=wanted,
                                     line=self.doc.line((*path, index))))
        return tuple(found)

    def step(self, raw: Any, index: int, apps: dict[str, model.AppDef]) -> model.Step | None:
        path: PathKey = ("steps", index)
        if not isinstance(raw, dict) or len(raw) != 1:
            self.fail(path, f"a step is a mapping with exactly one of: {', '.join(STEP_KEYS)}")
            return None
        kind, body = next(iter(raw.items()))
        if kind not in STEP_KEYS:
            self.fail((*path, kind), f"unknown step{suggest(kind, list(STEP_KEYS))}; "
                      f"steps are: {', '.join(STEP_KEYS)}")
            return None
        before = len(self.check.errors)
        self.check.value(body, STEP_KEYS[kind], (*path, kind))
        if len(self.check.errors) > before:
            return None
        line = self.doc.line(path)
        where = (*path, kind)
        if kind in ("deploy", "update"):
            return model.Step(kind=kind, line=line, profile=self.profile(body, where, apps))
        if kind == "remove":
            for i, app in enumerate(body):
                if app not in apps:
                    self.fail((*where, i), f"unknown application {app!r}{suggest(app, list(apps))}")
            return model.Step(kind=kind, line=line, apps=tuple(body))
        if kind == "fault":
            target = f"{body.get('app', '')}@{body['version']}" if "version" in body else \
                body.get("app", "")
            return model.Step(kind=kind, line=line, fault=body["kind"], fault_target=target)
        if kind == "wait":
            return model.Step(kind=kind, line=line, seconds=float(body))
        if kind == "reboot":
            return model.Step(kind=kind, line=line)
        expectations = tuple(
            model.AppExpectation(app=name, version=str(e["version"]) if "version" in e else None,
                                 result=e.get("result"), result_contains=e.get("result_contains"),
                                 present=e.get("present"))
            for name, e in body.get("applications", {}).items())
        return model.Step(kind=kind, line=line, extension=body.get("extension"),
                          app_expectations=expectations,
                          checks=self.checks(body.get("checks", []), (*where, "checks")),
                          service_error=body.get("service_error"),
                          reboots=body.get("reboots"))


def _sources() -> list[str]:
    return sorted(p.name for p in SOURCES.iterdir() if p.is_dir()) if SOURCES.is_dir() else []


def load_scenario(path: Path) -> model.Scenario:
    """Parse and validate one file; raises ConfigErrors listing every problem found."""
    doc = load_text(render(path), str(path))
    builder = _Builder(doc)
    builder.check.mapping(doc.data, SCENARIO)
    if builder.check.errors:
        raise ConfigErrors(builder.check.errors)
    data = doc.data
    apps = builder.apps(data["gallery"]["applications"])
    steps = [builder.step(raw, i, apps) for i, raw in enumerate(data["steps"])]
    if not data["steps"]:
        builder.fail(("steps",), "a scenario needs at least one step")
    if builder.check.errors:
        raise ConfigErrors(builder.check.errors)
    agent = data.get("agent", {})
    return model.Scenario(
        name=path.stem, file=path, description=data["description"],
        images=tuple(data.get("images", DEFAULT_IMAGES)),
        location=data["gallery"].get("location", "eastus"),
        vm_location=data.get("vm", {}).get("location", data["gallery"].get("location",
                                                                            "eastus")),
        apps=apps, steps=tuple(s for s in steps if s is not None),
        markers=tuple(data.get("markers", ())),
        command_timeout=agent.get("commandTimeoutSeconds", 900),
        interpreter=agent.get("interpreter", "/bin/sh"),
        config_naming=agent.get("configNaming", "underscore"))


def load_all(paths: list[Path]) -> list[model.Scenario]:
    """Load every file; if any is invalid, report all files' errors together."""
    scenarios, errors = [], []
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
