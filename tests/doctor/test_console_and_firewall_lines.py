"""console (its /healthz where people open it) and firewall (the guard's nftables table, in a network
namespace of the test's own: the host's firewall is never touched)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest

from peers.odoo_peer import OdooPeer
from services.doctor import FAIL, OK, WARN
from services.doctor.host import console_check, console_url, firewall_check
from services.guard.firewall import NftablesBackend
from tests.console.conftest import ConsoleFactory, make_console  # noqa: F401 - a fixture used here

from .conftest import doctor_settings


async def test_the_console_reached_where_odoo_opens_it(
    make_console: ConsoleFactory,  # noqa: F811 - the fixture imported above
    redis_url: str,
    prefix: str,
) -> None:
    run = await make_console()
    settings = doctor_settings(redis_url, prefix)
    # The server form's Console URL wins over what the console says of itself.
    url = console_url(settings, {"url": "http://0.0.0.0:1"}, {"console_url": run.url + "/"})
    assert url == run.url
    check = await console_check(settings, url)
    assert (
        check.status == OK
        and f"reachable at {run.url}" in check.message
        and "Asterisk not connected" in check.message
    )
    # Without Odoo's word: where the console listens, 0.0.0.0 read as this machine.
    port = run.url.rsplit(":", 1)[1]
    assert console_url(settings, {"url": f"http://0.0.0.0:{port}"}, None) == run.url


async def test_a_console_not_there_or_something_else_there_fails(
    odoo: OdooPeer, redis_url: str, prefix: str
) -> None:
    settings = doctor_settings(redis_url, prefix)
    gone = await console_check(settings, "http://127.0.0.1:1")
    assert (
        gone.status == FAIL
        and "cannot reach http://127.0.0.1:1" in gone.message
        and "Console URL" in gone.fix
    )
    other = await console_check(settings, odoo.url)
    assert other.status == FAIL and "not the console" in other.message
    disabled = await console_check(
        doctor_settings(redis_url, prefix, console_disabled=True), "http://127.0.0.1:1"
    )
    assert disabled.status == OK and "CONSOLE_DISABLED" in disabled.message


def sh(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, timeout=20)


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or not shutil.which("nft") or not shutil.which("ip"):
        pytest.skip("network namespaces and nftables need root, nft and ip (scripts/system-deps.sh)")
    name = f"pbxd-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    if sh("ip", "netns", "add", name).returncode != 0:
        pytest.skip("this machine forbids creating network namespaces")
    try:
        yield name
    finally:
        sh("ip", "netns", "delete", name)


async def test_the_guards_table_present_missing_or_behind(netns: str, redis_url: str, prefix: str) -> None:
    prefix_cmd = ["ip", "netns", "exec", netns]
    settings = doctor_settings(redis_url, prefix, guard_backend="nftables", guard_nft_table="pbx_guard")
    missing = await firewall_check(settings, {}, prefix_cmd)
    assert missing.status == FAIL and "table inet pbx_guard is missing" in missing.message
    assert "NET_ADMIN" in missing.fix

    backend = NftablesBackend("pbx_guard", prefix=prefix_cmd)
    await backend.setup()
    await backend.apply([("203.0.113.5", 600), ("2001:db8::5", 600)])
    present = await firewall_check(settings, {"backend": "nftables"}, prefix_cmd)
    assert present.status == OK and "present, 2 addresses banned" in present.message

    behind = await firewall_check(settings, {"backend": "nftables", "firewall_pending": "3"}, prefix_cmd)
    assert behind.status == WARN and "3 bans or unbans not taken yet" in behind.message
    why = "refused the ban of 10.0.0.9"
    refused = {"backend": "nftables", "firewall_pending": "1", "firewall_error": why}
    said = await firewall_check(settings, refused, prefix_cmd)
    assert said.status == WARN and said.message.endswith(f"not taken yet: {why}")

    # Sets without the chain that hooks input block nothing.
    sh(*prefix_cmd, "nft", "delete", "chain", "inet", "pbx_guard", "input")
    assert (await firewall_check(settings, {}, prefix_cmd)).status == FAIL


async def test_a_log_only_guard_is_a_warning(redis_url: str, prefix: str) -> None:
    settings = doctor_settings(redis_url, prefix, guard_backend="nftables")
    # The running guard's own word wins over this shell's GUARD_BACKEND.
    check = await firewall_check(settings, {"backend": "log"})
    assert (
        check.status == WARN
        and "only logs its bans" in check.message
        and "GUARD_BACKEND=nftables" in check.fix
    )


async def test_nft_missing_here_says_where_to_run_the_doctor(
    redis_url: str, prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    check = await firewall_check(doctor_settings(redis_url, prefix, guard_backend="nftables"), {})
    assert (
        check.status == WARN and "nft is not installed here" in check.message and "Asterisk host" in check.fix
    )
