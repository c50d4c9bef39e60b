"""Health check for containers: `python -m services.bus.health <service> [--max-age 30]`.

Exit 0 when the service's status hash is fresh, says ready (the service itself decides what ready means:
Redis plus, for the gateway, AMI; for the bridge, Odoo) and says nothing under `degraded` (the guard: bans do
not reach the firewall). Exit 1 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import sys

import redis

from .config import BusSettings
from .connect import connect_redis_sync
from .keys import Keys, status
from .status import seconds_since_update


def check(settings: BusSettings, service: str, max_age: float) -> tuple[bool, str]:
    key = Keys.of(settings).key(status(service))
    try:
        fields = connect_redis_sync(settings, socket_timeout=3).hgetall(key)
    except redis.RedisError as exc:
        return False, f"redis unreachable: {exc}"
    if not fields:
        return False, f"no status at {key}: the service has not started"
    age = seconds_since_update(fields)
    if age > max_age:
        return False, f"status is {age:.0f} s old: the service is not running"
    if fields.get("ready") != "1":
        return False, f"not ready: {fields.get('reason') or 'starting'}"
    if fields.get("degraded"):
        return False, f"degraded: {fields['degraded']}"
    return True, "ready"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("service")
    parser.add_argument("--max-age", type=float, default=30.0)
    args = parser.parse_args(argv)
    ok, reason = check(BusSettings(), args.service, args.max_age)
    print(f"{args.service}: {reason}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
