"""YAML with line numbers: every path traces back to its line; bad input names file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.yamldoc import dotted, load_file, load_text

TEXT = """\
# comment
name: demo
list:
  - a
  - {k: 1, deep: [x, y]}
empty:
when: 2030-01-01
"""


def test_lines_of_keys_and_items() -> None:
    doc = load_text(TEXT, "f.yaml")
    assert doc.data == {"name": "demo", "list": ["a", {"k": 1, "deep": ["x", "y"]}],
                        "empty": None, "when": "2030-01-01"}
    assert doc.line(()) == 2
    assert doc.line(("name",)) == 2
    assert doc.line(("list",)) == 3
    assert doc.line(("list", 0)) == 4
    assert doc.line(("list", 1, "deep", 1)) == 5
    assert doc.line(("empty",)) == 6


def test_line_of_unknown_path_falls_back_to_nearest_ancestor() -> None:
    doc = load_text(TEXT, "f.yaml")
    assert doc.line(("list", 1, "missing", "deeper")) == 5
    assert doc.line(("nothing",)) == 2


def test_error_names_file_line_and_dotted_field() -> None:
    doc = load_text(TEXT, "f.yaml")
    error = doc.error(("list", 1, "k"), "bad")
    assert (error.file, error.line, error.field) == ("f.yaml", 5, "list[1].k")
    assert str(error) == "f.yaml:5 list[1].k: bad"


def test_dotted() -> None:
    assert dotted(()) == ""
    assert dotted(("a", 0, "b", "c", 2)) == "a[0].b.c[2]"
    assert dotted((3,)) == "[3]"


def test_scalars_keep_their_yaml_types_except_dates() -> None:
    doc = load_text("a: [1, 1.5, true, null, '1', 0o755, 1.0.0, 2030-01-01T10:00:00Z]\n", "f")
    assert doc.data["a"] == [1, 1.5, True, None, "1", "0o755", "1.0.0", "2030-01-01T10:00:00Z"]


def test_keys_are_strings() -> None:
    assert load_text("1: a\n1.5: b\n", "f").data == {"1": "a", "1.5": "b"}


def test_empty_document_is_an_empty_mapping() -> None:
    doc = load_text("# nothing\n", "f")
    assert doc.data == {}


def test_duplicate_key_is_an_error_with_its_line() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text("a:\n  b: 1\n  c: 2\n  b: 3\n", "f.yaml")
    assert str(caught.value) == "f.yaml:4 a.b: duplicate key 'b'"


def test_merge_keys_keep_written_keys_and_anchor_lines() -> None:
    doc = load_text("base: &b\n  x: 1\n  y: {z: 2}\nuse:\n  <<: *b\n  x: 5\n", "f")
    assert doc.data["use"] == {"x": 5, "y": {"z": 2}}
    assert doc.line(("use", "x")) == 6
    assert doc.line(("use", "y", "z")) == 3


def test_merge_of_several_mappings_first_wins() -> None:
    doc = load_text("a: &a {k: 1}\nb: &b {k: 2, m: 3}\nc:\n  <<: [*a, *b]\n", "f")
    assert doc.data["c"] == {"k": 1, "m": 3}


def test_merge_of_a_scalar_is_an_error() -> None:
    with pytest.raises(ConfigError) as caught:
        load_text("a: &a 1\nb:\n  <<: *a\n", "f")
    assert str(caught.value) == "f:1 b: '<<' merges mappings only"


@pytest.mark.parametrize(("text", "message"), [
    ("a: [1\n", "f:2: invalid YAML: expected ',' or ']', but got '<stream end>'"),
    ("a: b: c\n", "f:1: invalid YAML: mapping values are not allowed here"),
    ("a: 1\n\nb: \x07\n", "f:3: invalid YAML: unacceptable character #x0007: special "
     "characters are not allowed"),
    ("a: !!python/object:os.system x\n", "f:1: invalid YAML: could not determine a "
     "constructor for the tag 'tag:yaml.org,2002:python/object:os.system'"),
])
def test_invalid_yaml(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "f")
    assert str(caught.value) == message


def test_load_file(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("k: v\n")
    doc = load_file(path)
    assert (doc.data, doc.file) == ({"k": "v"}, str(path))


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_file(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: cannot read: No such file or directory"


# -- hostile input: one clean error, bounded time and memory -----------------------------------

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(8))


@pytest.mark.parametrize(("text", "message"), [
    ("a: " + "[" * 5000 + "]" * 5000 + "\n", "f:1: nested more than 64 levels deep"),
    ("a: " + "{b: " * 70 + "1" + "}" * 70 + "\n", "f:1: nested more than 64 levels deep"),
    ("a: &a [*a]\n", "f:1 a[0][0][0]"),
    ("a: &a {b: *a}\n", "f:1 a.b.b.b"),
    (BOMB, "f:1 e[7][8][8][8][9]: more than 100000 values once aliases are expanded (an alias used "
           "too often?)"),
    ("a: " + "1" * 5000 + "\n", "f:1 a: not a value: Exceeds the limit (4300 digits) for "
                                "integer string conversion"),
    ("a: 0x" + "f" * 5000 + "\n", "f:1 a: integer out of range (64 bits at most)"),
    ("a: 9223372036854775808\n", "f:1 a: integer out of range (64 bits at most)"),
    ('a: "\\ud800"\n', "f:1 a: contains the character '\\ud800', which text here may not hold"),
    ('a: "x\\0y"\n', "f:1 a: contains the character '\\x00', which text here may not hold"),
    ('"\\x1b[31m": 1\n', "f:1: contains the character '\\x1b', which text here may not hold"),
    ("? [a, b]\n: 1\n", "f:1: a key must be a plain value, not a list or mapping"),
])
def test_hostile_yaml_is_one_clean_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_text(text, "f")
    assert str(caught.value).startswith(message)


def test_alias_bomb_is_refused_quickly() -> None:
    import time
    start = time.monotonic()
    with pytest.raises(ConfigError):
        load_text(BOMB + "".join(f"z{i}: &z{i} [*i, *i, *i, *i]\n" for i in range(3)), "f")
    assert time.monotonic() - start < 2


def test_a_few_aliases_are_fine() -> None:
    doc = load_text("a: &a {k: [1, 2]}\nb: [*a, *a]\n", "f")
    assert doc.data["b"] == [{"k": [1, 2]}, {"k": [1, 2]}]
