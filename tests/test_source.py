"""Reading input: YAML that is strict and bounded, and no file from outside the project."""

from __future__ import annotations

import pytest

from sitegen.errors import SiteError
from sitegen.source import MAX_DEPTH, MAX_VALUES, load_yaml


def yaml_error(text: str, first_line: int = 1) -> str:
    with pytest.raises(SiteError) as info:
        load_yaml(text, "data/bank.yaml", first_line)
    return info.value.problem.format()


# --- duplicate keys ---------------------------------------------------------------------------


def test_a_key_given_twice_is_an_error_naming_both_lines() -> None:
    text = 'account_number: "162-0-09432-0"\nswift: KRTHTHBK\naccount_number: "999-9-99999-9"\n'
    assert yaml_error(text) == (
        "data/bank.yaml:3: error: 'account_number' is given twice, on lines 1 and 3"
        " (keep one of them: the build cannot tell which is right)"
    )


def test_a_key_given_twice_in_front_matter_counts_lines_of_the_page() -> None:
    assert yaml_error("title: A\ndescription: x\ntitle: B\n", first_line=2).startswith(
        "data/bank.yaml:4: error: 'title' is given twice, on lines 2 and 4"
    )


def test_a_nested_key_given_twice_is_an_error() -> None:
    assert yaml_error("bank:\n  th: ก\n  en: A\n  th: ข\n").startswith(
        "data/bank.yaml:4: error: 'th' is given twice, on lines 2 and 4"
    )


def test_the_same_key_in_two_mappings_is_fine() -> None:
    doc = load_yaml("- key: a\n  name: A\n- key: b\n  name: B\n", "data/offices.yaml")
    assert doc.value == [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}]


def test_a_key_quoted_and_unquoted_is_still_the_same_key() -> None:
    assert "'swift' is given twice" in yaml_error('swift: A\n"swift": B\n')


def test_a_merge_may_be_overridden() -> None:
    doc = load_yaml("base: &b {a: 1, c: 2}\nitem:\n  <<: *b\n  a: 3\n", "x.yaml")
    assert doc.value["item"] == {"a": 3, "c": 2}


# --- bounded work -----------------------------------------------------------------------------

BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 8)}]" for i in range(8)]
)


def test_an_alias_bomb_is_refused_at_its_line() -> None:
    assert len(BOMB.split("\n")) == 9
    message = yaml_error(BOMB)
    # 'e' (line 5) expands to 37,449 values, 'f' (line 6) to 299,593: the first over the limit.
    assert message == (
        f"data/bank.yaml:6: error: invalid YAML: the values here repeat others (*name) until they make more than"
        f" {MAX_VALUES:,} values (write the values out, or use fewer * references)"
    )


def test_aliases_that_stay_small_are_fine() -> None:
    doc = load_yaml("a: &a [1, 2]\nb: [*a, *a]\n", "x.yaml")
    assert doc.value == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.parametrize("style", ["block", "flow"])
def test_deep_nesting_is_an_error_at_its_line(style: str) -> None:
    depth = MAX_DEPTH + 5
    if style == "block":
        text = "".join("  " * i + f"k{i}:\n" for i in range(depth)) + "  " * depth + "x\n"
    else:
        text = "a:\n  " + "[" * depth + "]" * depth + "\n"
    message = yaml_error(text)
    assert "is nested more than" in message, message
    assert message.startswith("data/bank.yaml:"), message


def test_nesting_through_aliases_counts_too() -> None:
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, MAX_DEPTH + 5)]
    assert "is nested more than" in yaml_error("\n".join(lines) + "\n")


# --- empty and wrong tags ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "wanted"),
    [
        ("!!int", "data/bank.yaml:3: error: invalid YAML: the tag !!int needs a value"),
        ("!!float", "data/bank.yaml:3: error: invalid YAML: the tag !!float needs a value"),
        ("!!bool", "data/bank.yaml:3: error: invalid YAML: the tag !!bool needs a value"),
        ("!!timestamp", "data/bank.yaml:3: error: invalid YAML: the tag !!timestamp needs a value"),
        ("!!int abc", "data/bank.yaml:3: error: invalid YAML: 'abc' is not a whole number"),
        ("!!int 0x", "data/bank.yaml:3: error: invalid YAML: '0x' is not a whole number"),
        ("!!int +", "data/bank.yaml:3: error: invalid YAML: '+' is not a whole number"),
        ("!!float _", "data/bank.yaml:3: error: invalid YAML: '_' is not a number"),
        ("!!bool maybe", "data/bank.yaml:3: error: invalid YAML: 'maybe' is not true or false"),
        ("!!timestamp soon", "data/bank.yaml:3: error: invalid YAML: 'soon' is not a date"),
        ("!!binary abc", "data/bank.yaml:3: error: invalid YAML: failed to decode base64 data: Incorrect padding"),
        ("!!set x", "data/bank.yaml:3: error: invalid YAML: expected a mapping node, but found scalar"),
        ("!foo x", "data/bank.yaml:3: error: invalid YAML: could not determine a constructor for the tag '!foo'"),
    ],
)
def test_a_tag_on_a_wrong_or_empty_value_is_an_error_at_its_line(value: str, wanted: str) -> None:
    message = yaml_error(f"a: 1\nb: 2\ntitle: {value}\n")
    assert message.startswith(wanted + " ("), message


def test_an_integer_too_long_for_python_is_an_error() -> None:
    assert yaml_error("a: 1\nn: " + "9" * 5000 + "\n").startswith(
        "data/bank.yaml:2: error: invalid YAML: '9999999999999999999999999999999999999999…' is not a whole number"
    )


def test_a_date_that_does_not_exist_keeps_its_message() -> None:
    assert yaml_error("a: 1\ndate: 2024-13-45\n") == (
        "data/bank.yaml:2: error: '2024-13-45' is not a valid date: month must be in 1..12"
        " (write dates as YYYY-MM-DD, for example 2024-02-29)"
    )


def test_good_tags_still_work() -> None:
    doc = load_yaml("a: !!int 12\nb: !!str 12\nc: !!float 1.5\nd: !!bool true\n", "x.yaml")
    assert doc.value == {"a": 12, "b": "12", "c": 1.5, "d": True}
