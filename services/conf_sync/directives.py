"""What an uploaded .conf may make Asterisk do besides set values: run programs, read files elsewhere.

Asterisk reads `#exec <program>` (when asterisk.conf's [options] says `execincludes=yes`) by running the
program at every reload, and `#include`/`#tryinclude <path>` of any absolute path or `..` path it can read.
Whoever may upload .conf files from Odoo would so run code on the Asterisk host, or copy any readable file
into a configuration that is downloaded back to Odoo. Both are refused unless the site allows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator

DIRECTIVE = re.compile(r"#(\S*)\s*(.*)")
TRUE = frozenset({"yes", "true", "y", "t", "1", "on"})  # Asterisk's ast_true()


class DirectiveRefused(ValueError):
    pass


def meaningful_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, text) without comments as Asterisk reads them: `;` to the end of the line, `;-- --;`
    blocks (nested, across lines), `\\;` a literal semicolon."""
    level = 0
    for number, raw in enumerate(text.splitlines(), 1):
        out: list[str] = []
        i = 0
        while i < len(raw):
            if raw.startswith(";--", i):
                level += 1
                i += 3
            elif level and raw.startswith("--;", i):
                level -= 1
                i += 3
            elif level:
                i += 1
            elif raw.startswith("\\;", i):
                out.append(";")
                i += 2
            elif raw[i] == ";":
                break
            else:
                out.append(raw[i])
                i += 1
        yield number, "".join(out).strip()


def inside(path: str, roots: Iterable[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip("/") + "/") for root in roots)


def check_directives(
    name: str, content: str, conf_dirs: tuple[str, ...], allow_exec: bool, allow_include_outside: bool
) -> None:
    """DirectiveRefused naming the file, the line and the setting that would allow it."""
    section = ""
    for number, line in meaningful_lines(content):
        where = f"{name} line {number}"
        if line.startswith("["):
            section = line[1:].partition("]")[0].strip().lower()
        elif line.startswith("#"):
            # As Asterisk parses it: the directive runs from '#' to the first blank, case-insensitive.
            directive, arg = DIRECTIVE.match(line).groups()  # type: ignore[union-attr]
            directive = directive.lower()
            if directive == "exec" and not allow_exec:
                raise DirectiveRefused(
                    f"{where}: #exec runs a program on the Asterisk host (CONF_ALLOW_EXEC=yes allows it)"
                )
            if directive in ("include", "tryinclude") and not allow_include_outside:
                path = arg[1:].rstrip('">') if arg[:1] in ('"', "<") else arg
                target = os.path.normpath(path if path.startswith("/") else os.path.join(conf_dirs[0], path))
                if path and not inside(target, conf_dirs):
                    raise DirectiveRefused(
                        f"{where}: #{directive} {path} reads a file outside {conf_dirs[0]} "
                        "(CONF_ALLOW_INCLUDE_OUTSIDE=yes allows it)"
                    )
        elif name == "asterisk.conf" and section == "options" and not allow_exec:
            key, sep, value = line.partition("=")
            if sep and key.strip().lower() == "execincludes" and value.lstrip(">").strip().lower() in TRUE:
                raise DirectiveRefused(
                    f"{where}: execincludes=yes lets #exec run programs on the Asterisk host "
                    "(CONF_ALLOW_EXEC=yes allows it)"
                )
