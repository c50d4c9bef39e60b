"""One line per check: `STATUS name  what was found -> what to do`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

OK, WARN, FAIL, SKIP = "OK", "WARN", "FAIL", "SKIP"


@dataclass(frozen=True)
class Check:
    status: str
    name: str
    message: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4} {self.name:<15} {self.message}"
        return f"{text} -> {self.fix}" if self.fix else text


def exit_code(checks: Iterable[Check]) -> int:
    statuses = {c.status for c in checks}
    return 2 if FAIL in statuses else 1 if WARN in statuses else 0


def skipped(name: str, why: str) -> Check:
    return Check(SKIP, name, why)
