"""The doctor against the AMI peer, the Odoo peer and a real Redis: each line, good and bad."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from peers.ami_peer import AmiPeer
from peers.odoo_peer import OdooPeer
from services.bus import Bus
from services.doctor import Check
from services.doctor.config import DoctorSettings

AMI_USER, AMI_SECRET = "agent", "s3cret-ami"
ODOO_PASSWORD = "n3w-password"
TZ = "Europe/Brussels"


@pytest.fixture
async def ami() -> AsyncIterator[AmiPeer]:
    peer = await AmiPeer(users={AMI_USER: AMI_SECRET}, login_failure_delay=0.01, timezone=TZ).start()
    yield peer
    await peer.stop()


@pytest.fixture
async def odoo() -> AsyncIterator[OdooPeer]:
    peer = OdooPeer(users={"asterisk1": ODOO_PASSWORD, "admin": "admin"}, servers={"asterisk1": "asterisk1"})
    peer.config["tz"] = TZ
    await peer.start()
    yield peer
    await peer.stop()


def doctor_settings(
    redis_url: str, prefix: str, ami: AmiPeer | None = None, odoo: OdooPeer | None = None, **overrides: Any
) -> DoctorSettings:
    values: dict[str, Any] = {
        "redis_url": redis_url,
        "pbx_prefix": prefix,
        "agent_server": "asterisk1",
        "ami_host": "127.0.0.1",
        "ami_port": ami.port if ami else 1,
        "ami_user": AMI_USER,
        "ami_secret": AMI_SECRET,
        "odoo_url": odoo.url if odoo else "http://127.0.0.1:1",
        "odoo_db": odoo.db if odoo else "demo",
        "odoo_user": "asterisk1",
        "odoo_password": ODOO_PASSWORD,
        "guard_backend": "log",
        "console_disabled": False,
    }
    values.update(overrides)
    return DoctorSettings(**values)


@pytest.fixture
async def bus(redis_url: str, prefix: str) -> AsyncIterator[Bus]:
    client = Bus(doctor_settings(redis_url, prefix))
    yield client
    await client.close()


def only(checks: list[Check], name: str) -> Check:
    found = [c for c in checks if c.name == name]
    assert len(found) == 1, f"{name}: {[c.line() for c in checks]}"
    return found[0]
