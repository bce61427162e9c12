"""Names, version numbers, regions, dates and resource paths."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gallery_builders import SUB, version_id

from harness.gallery.names import (
    VersionNumber,
    parse_datetime,
    parse_version,
    region_key,
    valid_application_name,
    valid_gallery_name,
    valid_image_name,
)
from harness.gallery.routes import parse_path


@pytest.mark.parametrize("text,expected", [
    ("1.0.0", VersionNumber(1, 0, 0)),
    ("2018.12.1", VersionNumber(2018, 12, 1)),
    ("0.0.0", VersionNumber(0, 0, 0)),
    ("2147483647.2147483647.2147483647", VersionNumber(2147483647, 2147483647, 2147483647)),
])
def test_versions_in_int32_parse(text: str, expected: VersionNumber) -> None:
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", ["1.0", "1.0.0.0", "2147483648.0.0", "-1.0.0", "a.b.c",
                                  "latest", "1.0.0-beta", " 1.0.0", ""])
def test_other_version_names_are_refused(text: str) -> None:
    assert parse_version(text) is None


def test_latest_ordering_is_major_then_minor_then_patch() -> None:
    numbers = [parse_version(v) for v in ("1.10.0", "1.9.9", "2.0.0", "1.10.1")]
    assert str(max(n for n in numbers if n)) == "2.0.0"
    assert sorted(str(n) for n in numbers if n and n.major == 1) == ["1.10.0", "1.10.1", "1.9.9"]
    assert max(n for n in numbers if n and n.major == 1) == VersionNumber(1, 10, 1)


@pytest.mark.parametrize("name", ["myApp", "a", "my-app_1.2", "A" * 117, "x.y"])
def test_application_names_allowed(name: str) -> None:
    assert valid_application_name(name)


@pytest.mark.parametrize("name", ["A" * 118, "app.", "my app", "app/1", "", "app$"])
def test_application_names_refused(name: str) -> None:
    assert not valid_application_name(name)


def test_gallery_and_image_names() -> None:
    assert valid_gallery_name("my_gallery.1")
    assert not valid_gallery_name("my-gallery")
    assert not valid_gallery_name("_gallery")
    assert not valid_gallery_name("g" * 81)
    assert valid_image_name("my-image_1.0")
    assert not valid_image_name("image.")
    assert not valid_image_name("i" * 81)


def test_regions_normalise_like_arm() -> None:
    assert region_key("East US 2") == region_key("eastus2") == "eastus2"


def test_dates() -> None:
    assert parse_datetime("2020-01-01") == datetime(2020, 1, 1, tzinfo=UTC)
    assert parse_datetime("2020-01-01T10:00:00Z") == datetime(2020, 1, 1, 10, tzinfo=UTC)
    assert parse_datetime("01/01/2023") is None


def test_paths_parse_case_insensitively_and_ignore_query() -> None:
    route = parse_path(version_id().replace("resourceGroups", "resourcegroups")
                       + "?api-version=2022-03-03")
    assert route is not None
    assert (route.kind, route.subscription, route.gallery, route.definition, route.version) == (
        "applicationVersion", SUB, "gal", "app", "1.0.0")
    full = parse_path("https://management.azure.com" + version_id())
    assert full is not None and full.kind == "applicationVersion"
    assert parse_path("/subscriptions/x/resourceGroups/rg/providers/Microsoft.Web/sites/a") \
        is None


@pytest.mark.parametrize("text", ["1.0.0\n", "١.٠.٠", "1.０.0", "𝟏.0.0", "1.0.0\r"])
def test_versions_with_a_trailing_newline_or_non_ascii_digits_are_refused(text: str) -> None:
    assert parse_version(text) is None


@pytest.mark.parametrize("check", [valid_application_name, valid_image_name, valid_gallery_name])
def test_names_with_a_trailing_newline_are_refused(check: object) -> None:
    assert callable(check)
    assert check("name") and not check("name\n")
