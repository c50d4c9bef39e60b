"""`python -m services.guard`: fail2ban-style bans from Asterisk's security events."""

from services.bus import Bus, Log, serve

from .config import GuardSettings
from .firewall import make_backend
from .guard import Guard


def guard(settings: GuardSettings, bus: Bus) -> Guard:
    backend = make_backend(
        settings.guard_backend, Log("guard.firewall", server=bus.server), settings.guard_nft_table
    )
    return Guard(settings, bus, backend)


if __name__ == "__main__":
    serve("guard", GuardSettings, guard)
