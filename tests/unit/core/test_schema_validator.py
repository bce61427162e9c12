"""The declarative schema: every problem collected with its path, line and a did-you-mean."""

from __future__ import annotations

from typing import Any

from harness.schema import Field, Validator, closest, suggest
from harness.yamldoc import load_text

SCHEMA = {
    "name": Field(str, required=True),
    "count": Field(int, minimum=1, maximum=10),
    "ratio": Field(float),
    "mode": Field(str, choices=("fast", "slow")),
    "tags": Field(list, items=Field(str)),
    "env": Field(dict, values=Field((str, int))),
    "inner": Field(dict, keys={"flag": Field(bool, required=True)}),
    "maybe": Field(str, nullable=True),
}


def problems(text: str, schema: dict[str, Field] = SCHEMA) -> list[str]:
    doc = load_text(text, "s.yaml")
    check = Validator(doc)
    check.mapping(doc.data, schema)
    return [str(e) for e in check.errors]


def test_valid_document_has_no_errors() -> None:
    assert problems("name: n\ncount: 3\nratio: 2\nmode: fast\ntags: [a]\nenv: {A: 1, B: b}\n"
                    "inner: {flag: false}\nmaybe: null\n") == []


def test_every_problem_is_reported_with_line_and_field() -> None:
    assert problems("nmae: n\ncount: 0\nratio: true\nmode: fats\ntags: [a, 2]\n"
                    "env: {A: [1]}\ninner: {}\nmaybe: 3\n") == [
        "s.yaml:1 nmae: unknown key (did you mean 'name'?); allowed: count, env, inner, maybe, "
        "mode, name, ratio, tags",
        "s.yaml:2 count: must be at least 1, got 0",
        "s.yaml:3 ratio: must be a number, got True",
        "s.yaml:4 mode: must be one of 'fast', 'slow', got 'fats' (did you mean 'fast'?)",
        "s.yaml:5 tags[1]: must be a string, got 2",
        "s.yaml:6 env.A: must be a string or an integer, got [1]",
        "s.yaml:7 inner: missing required key 'flag'",
        "s.yaml:8 maybe: must be a string, got 3",
    ]


def test_missing_required_key_without_a_near_miss() -> None:
    assert problems("count: 11\n") == [
        "s.yaml:1: missing required key 'name'",
        "s.yaml:1 count: must be at most 10, got 11",
    ]


def test_bool_is_not_an_integer() -> None:
    assert problems("name: n\ncount: true\n") == ["s.yaml:2 count: must be an integer, got True"]


def test_root_must_be_a_mapping() -> None:
    assert problems("- a\n") == ["s.yaml:1: must be a mapping, got list"]


def test_select_picks_the_shape_per_value() -> None:
    long = Field(dict, keys={"long": Field(dict, required=True)})
    short = Field(dict, keys={"n": Field(int, required=True)})

    def pick(value: Any) -> Field:
        return long if isinstance(value, dict) and "long" in value else short

    schema = {"items": Field(dict, values=Field(dict, select=pick))}
    assert problems("items: {a: {n: 1}, b: {long: {}}, c: {n: x}, d: {long: 1}}\n",
                    schema) == [
        "s.yaml:1 items.c.n: must be an integer, got 'x'",
        "s.yaml:1 items.d.long: must be a mapping, got 1",
    ]


def test_clean_knows_which_subtrees_failed() -> None:
    doc = load_text("name: n\ninner: {flag: 1}\ntags: [a]\n", "s.yaml")
    check = Validator(doc)
    check.mapping(doc.data, SCHEMA)
    assert check.failed == [("inner", "flag")]
    assert not check.clean(("inner",))
    assert not check.clean(("inner", "flag"))
    assert check.clean(("tags",))
    assert not check.clean(())


def test_validators_can_share_one_error_list() -> None:
    errors: list[Any] = []
    one = Validator(load_text("x: 1\n", "one.yaml"), errors)
    two = Validator(load_text("y: 1\n", "two.yaml"), errors)
    one.fail(("x",), "first")
    two.fail(("y",), "second")
    assert [str(e) for e in errors] == ["one.yaml:1 x: first", "two.yaml:1 y: second"]
    assert (one.failed, two.failed) == ([("x",)], [("y",)])


def test_suggest() -> None:
    assert suggest("instal", ["install", "remove"]) == " (did you mean 'install'?)"
    assert suggest("zzz", ["install", "remove"]) == ""
    assert closest("remvoe", ["install", "remove"]) == "remove"
    assert closest("zzz", ["install"]) is None
