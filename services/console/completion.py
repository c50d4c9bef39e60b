"""Tab completion: Asterisk's own `_command matchesarray`, asked with CLI-quoted arguments and read back."""

from __future__ import annotations

COMPLETE_EOF = "_EOF_"  # Asterisk's AST_CLI_COMPLETE_EOF, the end of a match list


def completion_word(line: str) -> str:
    """The word being completed: the last one, or "" after a space (Asterisk's own convention)."""
    return "" if not line or line.endswith(" ") else line.split()[-1]


def cli_quote(text: str) -> str:
    """One argument for the Asterisk CLI parser: double quotes and backslashes, not shell quoting."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_matches(output: str) -> tuple[str, list[str]]:
    """`_command matchesarray` output: the common prefix, then every match, then `_EOF_`.

    An empty common prefix shows as a leading space, which a line-trimming transport may have eaten: the
    first word is the prefix only if every other word starts with it.
    """
    words = output.strip("\r\n").split(" ")
    words = (
        [w for w in words[: words.index(COMPLETE_EOF)] if w]
        if COMPLETE_EOF in words
        else [w for w in words if w]
    )
    if output.startswith(" "):
        return "", words
    if len(words) > 1 and all(w.startswith(words[0]) for w in words[1:]):
        return words[0], words[1:]
    if len(words) == 1:
        return words[0], words
    return "", words
