"""`make run` (scripts/run_local.py) on its embedded default: every service `pbx doctor` expects comes up
against the AMI and Odoo peers, and a SIGTERM (docker stop, a supervisor) stops the whole stack as Ctrl-C
does, leaving no service behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import redis

from peers.local_redis import RedisServer, free_port, port_open, wait_until
from services.bus import BusSettings, Keys

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ami_gateway", "odoo_bridge", "guard", "conf_sync", "console", "phonebook", "recordings")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_starts_every_service_and_a_sigterm_stops_them_all(
    own_redis: RedisServer, prefix: str, tmp_path: Path
) -> None:
    console_port, phonebook_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AMI_", "ODOO_", "RECORDINGS_"))}
    env.pop("ASTERISK_CONF_DIR", None)
    env.pop("CONSOLE_DISABLED", None)
    env.update(
        REDIS_URL=own_redis.url,
        PBX_PREFIX=prefix,
        AGENT_SERVER="asterisk1",
        CONSOLE_PORT=str(console_port),
        PHONEBOOK_PORT=str(phonebook_port),
    )
    keys = Keys.of(BusSettings(redis_url=own_redis.url, pbx_prefix=prefix, agent_server="asterisk1"))
    client = redis.Redis.from_url(own_redis.url, decode_responses=True)
    with (tmp_path / "run.log").open("wb") as log:
        run = subprocess.Popen(
            [sys.executable, "-m", "scripts.run_local"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def status(service: str) -> dict[str, str]:
            return client.hgetall(keys.key(f"status:{service}"))  # type: ignore[return-value]

        wait_until(lambda: all(status(s).get("ready") == "1" for s in SERVICES), "every service ready", 90)
        pids = [int(status(s)["pid"]) for s in SERVICES]
        assert port_open(console_port) and port_open(phonebook_port)

        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0
        wait_until(lambda: not any(_alive(pid) for pid in pids), "every service gone", 30)
        assert not port_open(console_port) and not port_open(phonebook_port)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        client.close()
