"""The events map from Odoo: which AMI event goes to which Odoo model/method. Declarative only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from services.bus import Entry

OPS = ("equals", "differs", "matches", "exists", "missing")


@dataclass(frozen=True)
class Condition:
    header: str
    op: str
    value: str
    pattern: re.Pattern[str] | None

    def holds(self, entry: Entry) -> bool:
        present = entry.get(self.header, "\0") != "\0"
        value = entry.get(self.header)
        if self.op == "exists":
            return present
        if self.op == "missing":
            return not present
        if self.op == "equals":
            return present and value == self.value
        if self.op == "differs":
            return value != self.value
        return present and self.pattern is not None and self.pattern.search(value) is not None


@dataclass(frozen=True)
class Route:
    event: str
    model: str
    method: str
    conditions: tuple[Condition, ...]


class EventsMap:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.by_event: dict[str, list[Route]] = {}
        for row in rows:
            conditions = []
            for c in row.get("conditions") or []:
                if c["op"] not in OPS:
                    raise ValueError(f"events map {row.get('id')}: unknown condition op {c['op']!r}")
                pattern = re.compile(c.get("value") or "") if c["op"] == "matches" else None
                conditions.append(Condition(c["header"], c["op"], c.get("value") or "", pattern))
            if not row.get("model") or not row.get("method") or row["method"].startswith("_"):
                raise ValueError(f"events map {row.get('id')}: a model and a public method are needed")
            route = Route(row["event"], row["model"], row["method"], tuple(conditions))
            self.by_event.setdefault(row["event"], []).append(route)

    def targets(self, entry: Entry) -> list[tuple[str, str]]:
        """Every (model, method) this event goes to, each once."""
        out: list[tuple[str, str]] = []
        for route in self.by_event.get(entry.get("Event"), ()):
            target = (route.model, route.method)
            if target not in out and all(c.holds(entry) for c in route.conditions):
                out.append(target)
        return out
