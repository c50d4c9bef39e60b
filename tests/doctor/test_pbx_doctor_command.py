"""`pbx doctor` as people run it, against the whole chain as processes (gateway, bridge, conf_sync, guard,
console, phonebook, recordings) with the AMI peer, the Odoo peer and a Redis with an append-only file: one
line per check, and the exit code scripts read (0 all OK, 1 warnings, 2 failures)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from peers.ami_peer import AmiPeer
from peers.local_redis import RedisServer, free_port
from peers.odoo_peer import OdooPeer
from services.doctor import FAIL, OK, SKIP, WARN, Check, exit_code
from tests.cli.conftest import run_cli
from tests.faults.harness import ROOT, Pipeline

from .conftest import AMI_SECRET, AMI_USER, ODOO_PASSWORD

SERVICES = ("ami_gateway", "odoo_bridge", "conf_sync", "guard", "console", "phonebook", "recordings")


@pytest.fixture
async def chain(
    tmp_path: Path, own_redis: RedisServer, ami: AmiPeer, odoo: OdooPeer
) -> AsyncIterator[Pipeline]:
    (tmp_path / "logs").mkdir()
    (tmp_path / "monitor").mkdir()
    shutil.copytree(ROOT / "peers" / "sample_asterisk_conf", tmp_path / "asterisk")
    console_port = free_port()
    odoo.config["console_url"] = f"http://127.0.0.1:{console_port}"
    pipe = Pipeline(
        own_redis,
        ami,
        odoo,
        tmp_path / "logs",
        extra_env={
            "AMI_USER": AMI_USER,
            "AMI_SECRET": AMI_SECRET,
            "ODOO_PASSWORD": ODOO_PASSWORD,
            "ASTERISK_CONF_DIR": str(tmp_path / "asterisk"),
            "CONF_BACKUP_DIR": str(tmp_path / "backups"),
            "CONSOLE_HOST": "127.0.0.1",
            "CONSOLE_PORT": str(console_port),
            "PHONEBOOK_HOST": "127.0.0.1",
            "PHONEBOOK_PORT": str(free_port()),
            "RECORDINGS_DIR": str(tmp_path / "monitor"),
            "RECORDINGS_SPOOL_DIR": str(tmp_path / "spool"),
        },
    )
    for service in SERVICES:
        pipe.start(service)
    for service in SERVICES:
        await pipe.ready(service)
    yield pipe
    pipe.stop_all()


async def pbx_doctor(pipe: Pipeline) -> tuple[int, list[str]]:
    env = pipe.env("doctor")
    proc = await asyncio.to_thread(run_cli, env, "doctor")
    assert not proc.stderr.strip(), proc.stderr
    return proc.returncode, proc.stdout.splitlines()


def statuses(lines: list[str]) -> dict[str, str]:
    return {line.split()[1]: line.split()[0] for line in lines}


async def test_a_healthy_chain_warns_only_of_the_log_only_firewall(chain: Pipeline) -> None:
    code, lines = await pbx_doctor(chain)
    found = statuses(lines)
    assert found.pop("firewall") == WARN, lines
    assert set(found.values()) == {OK}, "\n".join(lines)
    assert set(found) == {
        "redis",
        *(f"svc.{s}" for s in SERVICES),
        "ami.login",
        "ami.write",
        "ami.read",
        "clock",
        "events",
        "odoo.login",
        "odoo.module",
        "timezone",
        "passwords",
        "console",
        "groups",
        "dead",
    }
    assert code == 1
    # One line each: status, name, what was found (and what to do when it is not OK).
    firewall = next(line for line in lines if line.split()[1] == "firewall")
    assert firewall.startswith("WARN firewall") and " -> set GUARD_BACKEND=nftables" in firewall


async def test_odoo_down_is_a_failure_and_what_needs_it_is_skipped(chain: Pipeline) -> None:
    await chain.odoo.stop()
    code, lines = await pbx_doctor(chain)
    found = statuses(lines)
    assert code == 2
    assert found["odoo.login"] == FAIL and found["odoo.module"] == SKIP
    assert found["ami.login"] == OK and found["redis"] == OK
    line = next(line for line in lines if line.split()[1] == "odoo.login")
    assert f"cannot reach Odoo at {chain.odoo.url}" in line and "-> check ODOO_URL" in line


def test_the_exit_code_is_the_worst_line() -> None:
    assert exit_code([Check(OK, "a", "")]) == 0
    assert exit_code([Check(OK, "a", ""), Check(SKIP, "b", "")]) == 0
    assert exit_code([Check(OK, "a", ""), Check(WARN, "b", "")]) == 1
    assert exit_code([Check(WARN, "a", ""), Check(FAIL, "b", ""), Check(OK, "c", "")]) == 2
    assert Check(FAIL, "redis", "down", "start it").line() == "FAIL redis           down -> start it"
