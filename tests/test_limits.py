"""The size limits in numpynn._helpers.limits: free memory, bounded reads, nesting depth."""
import json
import resource

import pytest

from numpynn._helpers.limits import (MAX_DEPTH, available_memory, check_memory, format_bytes,
                                     nesting_depth, parse_nested, read_limited)

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (1024, "1 KiB"),
                                     (512 * 10**9, "477 GiB"), (1.2e12, "1.09 TiB"),
                                     (2**90, "1024 YiB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_available_memory_is_at_most_the_physical_memory():
    room = available_memory()
    physical = open("/proc/meminfo").read().split()[1]  # MemTotal, in KiB
    assert 0 < room <= int(physical) * 1024


def test_available_memory_honours_an_address_space_limit(monkeypatch):
    monkeypatch.setattr(resource, "getrlimit", lambda which: (2**30, 2**30))
    assert available_memory() <= 2**30


def test_check_memory_names_the_size_and_raises_the_given_error():
    class FileError(ValueError):
        pass
    with pytest.raises(FileError, match=r"^f: the thing needs 1 YiB; about [\d.]+ [KMGT]iB of "
                                        r"memory is available\nhelp: less$"):
        check_memory(2**80, "the thing", where="f", hint="\nhelp: less", error=FileError)
    check_memory(1, "one byte")


def test_read_limited_stops_at_the_limit(tmp_path):
    with pytest.raises(ValueError, match=r"^/dev/zero: larger than 1 KiB, the most numpynn reads"):
        read_limited("/dev/zero", limit=1024)
    (tmp_path / "exact").write_bytes(b"x" * 1024)
    assert read_limited(tmp_path / "exact", limit=1024) == b"x" * 1024


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])  # the second: a RecursionError
def test_documents_nested_too_deeply_are_one_line_errors(depth):
    for loads, text, kind in [(json.loads, "[" * depth + "]" * depth, "JSON"),
                              (tomllib.loads, "a = " + "[" * depth + "]" * depth, "TOML")]:
        with pytest.raises(ValueError, match=rf"^doc: {kind} nested more than {MAX_DEPTH} levels"):
            parse_nested(loads, text, "doc", kind)


def test_parse_nested_accepts_the_limit_and_words_syntax_errors():
    text = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert nesting_depth(parse_nested(json.loads, text, "doc", "JSON")) == MAX_DEPTH
    assert nesting_depth({"a": [1, {"b": []}], "c": 2}) == 4 and nesting_depth(7) == 0
    with pytest.raises(ValueError, match="^doc: not valid JSON: Expecting"):
        parse_nested(json.loads, "{", "doc", "JSON")
