"""Reading Asterisk's `_command matchesarray` answer and quoting its arguments."""

from __future__ import annotations

import pytest

from peers.ami_peer.cli import COMPLETE_EOF, matches
from services.console.completion import cli_quote, completion_word, parse_matches


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (f"show show {COMPLETE_EOF}", ("show", ["show"])),
        (f" channels help uptime {COMPLETE_EOF}", ("", ["channels", "help", "uptime"])),
        # The leading space of an empty prefix trimmed away on the way: still read as matches.
        (f"channels help uptime {COMPLETE_EOF}", ("", ["channels", "help", "uptime"])),
        (f"chan channels channelstats {COMPLETE_EOF}", ("chan", ["channels", "channelstats"])),
        (COMPLETE_EOF, ("", [])),
        ("", ("", [])),
    ],
)
def test_matches_are_read_as_asterisk_prints_them(output: str, expected: tuple[str, list[str]]) -> None:
    assert parse_matches(output) == expected


@pytest.mark.parametrize("line", ["core sh", "core show ", "", "pjsip show e", "dialplan"])
def test_what_the_peer_prints_reads_back_as_its_matches(line: str) -> None:
    word = completion_word(line)
    found = matches(line, word)
    printed = " ".join(found) + " " + COMPLETE_EOF
    assert parse_matches(printed) == ((found[0], found[1:]) if found else ("", []))


def test_completion_word_is_the_last_word_or_nothing_after_a_space() -> None:
    assert [completion_word(x) for x in ["core sh", "core show ", "", "core"]] == ["sh", "", "", "core"]


def test_arguments_are_quoted_for_asterisks_cli_parser() -> None:
    assert cli_quote("core sh") == '"core sh"'
    assert cli_quote("") == '""'
    assert cli_quote('say "hi" \\ there') == '"say \\"hi\\" \\\\ there"'
