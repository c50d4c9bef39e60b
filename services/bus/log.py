"""Structured logs: one line per record, `key=value` fields after the message.

Every line about a message carries stream, entry and server; `Log.bind` fixes fields such as the server once.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

_RESERVED = "fields"
_NEEDS_QUOTES = re.compile(r'[ "=\n\t]')


def _quote(value: Any) -> str:
    if type(value) is int:
        return str(value)
    text = str(value)
    if text == "" or _NEEDS_QUOTES.search(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        stamp = self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z"
        line = f"{stamp} {record.levelname} {record.name} {record.getMessage()}"
        fields = getattr(record, _RESERVED, None)
        if fields:
            line += " " + " ".join(f"{k}={_quote(v)}" for k, v in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


KeyValueFormatter.converter = time.gmtime


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class Log:
    """A logger with bound fields: `log.info("delivered", stream="events", entry=eid, count=3)`."""

    def __init__(self, name: str, **bound: Any) -> None:
        self._logger = logging.getLogger(name)
        self._bound = bound

    def bind(self, **fields: Any) -> Log:
        child = Log(self._logger.name, **{**self._bound, **fields})
        return child

    def _log(self, level: int, msg: str, exc_info: bool, fields: dict[str, Any]) -> None:
        if self._logger.isEnabledFor(level):
            merged = {**self._bound, **fields}
            # makeRecord + handle: the lines name no source file, so skip logging's costly caller lookup.
            exc = sys.exc_info() if exc_info else None
            record = self._logger.makeRecord(
                self._logger.name, level, "", 0, msg, (), exc, extra={_RESERVED: merged}
            )
            self._logger.handle(record)

    def debug(self, msg: str, **fields: Any) -> None:
        self._log(logging.DEBUG, msg, False, fields)

    def info(self, msg: str, **fields: Any) -> None:
        self._log(logging.INFO, msg, False, fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self._log(logging.WARNING, msg, False, fields)

    def error(self, msg: str, **fields: Any) -> None:
        self._log(logging.ERROR, msg, False, fields)

    def exception(self, msg: str, **fields: Any) -> None:
        self._log(logging.ERROR, msg, True, fields)

    def is_debug(self) -> bool:
        return self._logger.isEnabledFor(logging.DEBUG)


class StateLog:
    """Logs a connection's state only when it changes, so a reconnect loop does not flood the log."""

    def __init__(self, log: Log, what: str) -> None:
        self._log = log
        self._what = what
        self.state: str | None = None

    def set(self, state: str, level: int = logging.INFO, **fields: Any) -> bool:
        if state == self.state:
            return False
        self.state = state
        self._log._log(level, f"{self._what} {state}", False, fields)
        return True
