"""What an entry on `actions` must be before any of it is written to Asterisk.

The allowlist is only worth something if the frame Asterisk reads is the action that was checked: one
`Action` header, header names that cannot carry a line break (a name with CR/LF ends the frame and starts
another one behind it), values without line breaks, a bounded size, and no config file outside Asterisk's
configuration directory (CVE-2023-49294: GetConfig of older Asterisk versions read any file given a path).
"""

from __future__ import annotations

import re
from typing import Any

from services.bus import Headers

# Asterisk's own header names are letters, digits, '-' and '_' (Channel, ChanVariable, X-Foo, Async_...).
TOKEN = re.compile(r"[A-Za-z0-9_-]+")
# Headers that name a file in Asterisk's configuration directory (GetConfig, GetConfigJSON,
# ListCategories, CreateConfig: Filename; UpdateConfig: SrcFilename, DstFilename).
FILENAME_HEADERS = frozenset({"filename", "srcfilename", "dstfilename"})
# Asterisk reads one line into 1024 bytes (manager.c, inbuf): a longer line is refused as a whole by current
# versions, and older ones read its tail as a line of its own, so none goes out.
LINE_MAX = 1024


class Refused(ValueError):
    """The request must not run; the text is the reason the requester reads."""


def check_action(headers: Headers, allowed: frozenset[str], max_bytes: int) -> tuple[str, dict[str, Any]]:
    """(action name, headers to send without ActionID), or Refused with the reason."""
    for name in headers:
        if not TOKEN.fullmatch(name):
            raise Refused(
                f"malformed request: header name {name!r} is not an AMI token (letters, digits, '-', '_')"
            )
    action_names = [n for n, v in headers.items() if n.lower() == "action" for _ in _values(v)]
    if not action_names:
        raise Refused("malformed request: no Action header")
    if len(action_names) > 1:
        raise Refused(f"malformed request: more than one Action header ({', '.join(action_names)})")
    name = next(_values(v)[0] for n, v in headers.items() if n.lower() == "action")
    if name.lower() not in allowed:
        raise Refused(f"action {name} is not allowed (GATEWAY_ACTIONS_ALLOW)")
    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}  # lower-case name -> the first spelling seen
    size = 2  # the blank line that ends the frame
    for header, value in headers.items():
        values = _values(value)
        if any("\r" in v or "\n" in v for v in values):
            raise Refused(f"malformed request: header {header} holds a line break")
        lowered = header.lower()
        if lowered in FILENAME_HEADERS:
            for v in values:
                if "/" in v or "\\" in v or ".." in v:
                    raise Refused(
                        f"action {name} refused: {header} {v!r} must be a plain file name in Asterisk's "
                        "configuration directory (no '/', '\\' or '..')"
                    )
        if lowered == "actionid":  # the gateway sets its own, to match the response
            continue
        for v in values:
            line = len(header) + len(v.encode()) + 4  # "Name: value\r\n"
            if line > LINE_MAX:
                raise Refused(
                    f"action {name} refused: header {header} makes a line of {line} bytes, "
                    f"Asterisk reads at most {LINE_MAX}"
                )
            size += line
        # panoramisk keeps one value per name whatever its case: `Variable` + `variable` become one list.
        key = spelled.setdefault(lowered, header)
        if key in out:
            out[key] = [*_values(out[key]), *values]
        else:
            out[key] = value
    if size > max_bytes:
        raise Refused(f"action {name} is too large: {size} bytes > GATEWAY_MAX_ACTION_BYTES = {max_bytes}")
    return name, out


def _values(value: str | list[str]) -> list[str]:
    return value if isinstance(value, list) else [value]
