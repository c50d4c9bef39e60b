"""The Asterisk CLI commands the peer knows, with Asterisk's own completion (`_command matchesarray`)."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from .manager import show_user

if TYPE_CHECKING:
    from .server import AmiPeer

COMPLETE_EOF = "_EOF_"  # AST_CLI_COMPLETE_EOF: ends the match list

COMMANDS = [
    "core show version",
    "core show uptime",
    "core show channels",
    "core show channels concise",
    "core show help",
    "core show settings",
    "core reload",
    "core restart now",
    "core restart gracefully",
    "core stop now",
    "core set verbose",
    "dialplan reload",
    "dialplan show",
    "module reload",
    "module show",
    "pjsip show endpoints",
    "pjsip show contacts",
    "pjsip reload",
    "sip show peers",
    "manager show connected",
    "manager show user",
    "database show",
    "reload",
]

Result = tuple[bool, list[str], Callable[[], Coroutine[Any, Any, None]] | None]


def matches(line: str, word: str) -> list[str]:
    """What Asterisk's ast_cli_completion_matches gives: the common prefix first, then each match."""
    typed = line.split()
    if word and typed and typed[-1] == word:
        typed = typed[:-1]
    found: list[str] = []
    for command in COMMANDS:
        words = command.split()
        if len(words) <= len(typed) or words[: len(typed)] != typed:
            continue
        candidate = words[len(typed)]
        if candidate.startswith(word) and candidate not in found:
            found.append(candidate)
    if not found:
        return []
    prefix = found[0]
    for other in found[1:]:
        while not other.startswith(prefix):
            prefix = prefix[:-1]
    return [prefix, *found]


class CLI:
    def __init__(self, peer: AmiPeer) -> None:
        self.peer = peer

    def run(self, command: str) -> Result:
        text = " ".join(command.split())
        if text.startswith("_command matchesarray"):
            try:
                args = shlex.split(text)
            except ValueError:
                args = text.split()
            line, word = (args[2] if len(args) > 2 else ""), (args[3] if len(args) > 3 else "")
            return True, [" ".join(matches(line, word)) + " " + COMPLETE_EOF], None
        version = "22.10.1"
        if text == "core show version":
            return (
                True,
                [
                    f"Asterisk {version} built by root @ vm on a x86_64 running Linux on 2026-11-24 "
                    "20:29:43 UTC"
                ],
                None,
            )
        if text == "core show uptime":
            return (
                True,
                ["System uptime: 1 hour, 2 minutes, 3 seconds", "Last reload: 1 hour, 2 minutes, 3 seconds"],
                None,
            )
        if text == "core show channels":
            n = len(self.peer.channels)
            return (
                True,
                [
                    "Channel              Location             State   Application(Data)             ",
                    f"{n} active channels",
                    f"{n} active calls",
                    "0 calls processed",
                ],
                None,
            )
        if text == "core show channels concise":
            return True, [""], None
        if text == "pjsip show endpoints":
            return (
                True,
                [
                    "",
                    " Endpoint:  <Endpoint/CID...........................>  <State.....>  <Channels.>",
                    "==========================================================================================",
                    "",
                    " Endpoint:  101                                                  Not in use    0 of inf",
                    " Endpoint:  102                                                  Not in use    0 of inf",
                    "",
                    "Objects found: 2",
                ],
                None,
            )
        if text in ("dialplan reload", "module reload", "core reload", "reload", "pjsip reload"):
            return True, ["Dialplan reloaded." if text.startswith("dialplan") else "Module reloaded."], None
        if text in ("core restart now", "core restart gracefully"):
            return True, [""], self.peer.restart
        if text.startswith("manager show user "):
            name = text.removeprefix("manager show user ")
            return True, show_user(name, self.peer.perms_of(name) if name in self.peer.users else None), None
        if text == "core show help":
            return True, [f"{c:40} -- {c}" for c in COMMANDS], None
        first = text.split(" ")[0] if text else ""
        return (
            False,
            [f"No such command '{text}' (type 'core show help {first}' for other possible commands)"],
            None,
        )
