"""`python -m services.console`: the web Asterisk CLI, unless CONSOLE_DISABLED=yes."""

from __future__ import annotations

from services.bus import Log, serve
from services.bus import log as bus_log

from .config import ConsoleSettings
from .console import Console

if __name__ == "__main__":
    settings = ConsoleSettings()
    if settings.console_disabled:
        bus_log.setup(settings.log_level)
        log = Log("console", server=settings.agent_server)
        log.info("console disabled (CONSOLE_DISABLED=yes); not starting")
    else:
        serve("console", ConsoleSettings, Console)
