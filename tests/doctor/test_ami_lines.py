"""ami.login, ami.write, ami.read, clock and timezone against the AMI peer (manager.conf classes as Asterisk
22 applies them: an action runs when the user's write classes share one with it)."""

from __future__ import annotations

from peers.ami_peer import AmiPeer
from peers.ami_peer.manager import Perms
from services.doctor import FAIL, OK, SKIP, WARN, Check
from services.doctor import ami as doctor_ami
from services.doctor.ami import AmiFacts
from services.doctor.clock import timezone_check

from .conftest import AMI_USER, TZ, doctor_settings, only


async def lines(
    redis_url: str, prefix: str, peer: AmiPeer, **overrides: object
) -> tuple[AmiFacts, list[Check]]:
    checks: list[Check] = []
    facts = await doctor_ami.gather(doctor_settings(redis_url, prefix, peer, **overrides), checks)
    return facts, checks


async def test_a_user_with_every_class_passes_every_ami_line(
    redis_url: str, prefix: str, ami: AmiPeer
) -> None:
    facts, checks = await lines(redis_url, prefix, ami)
    login = only(checks, "ami.login")
    assert login.status == OK and f"{AMI_USER}@127.0.0.1:{ami.port}" in login.message
    assert "Asterisk 22.10.1" in login.message
    assert only(checks, "ami.write").status == OK
    assert only(checks, "ami.read").status == OK
    assert only(checks, "clock").status == OK
    assert facts.read is not None and {"call", "cdr", "security"} <= facts.read
    # Only harmless actions were sent: never an Originate, a Reload or a Hangup.
    sent = {dict(a).get("Action") for a in ami.actions_received}
    assert sent <= {"Login", "Ping", "ModuleCheck", "Command", "ListCategories", "Getvar", "Logoff"}


async def test_a_wrong_secret_fails_the_login_and_says_where_to_look(
    redis_url: str, prefix: str, ami: AmiPeer
) -> None:
    facts, checks = await lines(redis_url, prefix, ami, ami_secret="wrong")
    login = only(checks, "ami.login")
    assert (
        login.status == FAIL
        and "refused the login" in login.message
        and "Authentication failed" in login.message
    )
    assert "AMI_SECRET" in login.fix and f"[{AMI_USER}]" in login.fix
    assert not facts.logged_in and [c.name for c in checks] == ["ami.login"]


async def test_no_asterisk_listening_fails_the_login(redis_url: str, prefix: str, ami: AmiPeer) -> None:
    port = ami.port
    await ami.stop()
    _, checks = await lines(redis_url, prefix, ami, ami_port=port)
    login = only(checks, "ami.login")
    assert login.status == FAIL and f"cannot reach AMI at 127.0.0.1:{port}" in login.message
    assert "AMI_HOST/AMI_PORT" in login.fix


async def test_missing_write_and_read_classes_are_named(redis_url: str, prefix: str, ami: AmiPeer) -> None:
    ami.perms[AMI_USER] = Perms(read="call,cdr", write="system,command,reporting")
    _, checks = await lines(redis_url, prefix, ami)
    write, read = only(checks, "ami.write"), only(checks, "ami.read")
    assert write.status == FAIL and "lacks originate (click-to-call)" in write.message
    assert "add originate to manager.conf [agent] write=" in write.fix
    assert (
        read.status == FAIL
        and "lacks system" in read.message
        and "call" not in read.message.split("lacks")[1]
    )


async def test_only_the_guard_and_queue_classes_missing_is_a_warning(
    redis_url: str, prefix: str, ami: AmiPeer
) -> None:
    ami.perms[AMI_USER] = Perms(read="system,call,cdr", write="all")
    _, checks = await lines(redis_url, prefix, ami)
    read = only(checks, "ami.read")
    assert read.status == WARN and "security (the guard sees no attack)" in read.message
    assert "agent (no queue events" in read.message


async def test_without_the_command_class_the_classes_are_probed_and_originate_stays_unknown(
    redis_url: str, prefix: str, ami: AmiPeer
) -> None:
    ami.perms[AMI_USER] = Perms(read="all", write="system,originate,reporting")
    _, checks = await lines(redis_url, prefix, ami)
    write = only(checks, "ami.write")
    assert write.status == FAIL and "lacks command (the console)" in write.message
    assert only(checks, "ami.read").status == WARN  # read= cannot be seen without `manager show user`

    # Command allowed but `manager show user` refused (cli_permissions.conf): only the probes speak.
    ami.perms[AMI_USER] = Perms(read="all", write="all")
    run = ami.cli.run
    ami.cli.run = lambda text: (  # type: ignore[method-assign]
        (False, ["No such command 'manager show user'"], None)
        if text.startswith("manager show")
        else run(text)
    )
    _, checks = await lines(redis_url, prefix, ami)
    write, read = only(checks, "ami.write"), only(checks, "ami.read")
    assert write.status == WARN and "originate cannot be checked without placing a call" in write.message
    assert "includes originate" in write.fix
    assert read.status == WARN and "cannot be seen" in read.message


async def test_a_clock_off_by_more_than_five_seconds_is_a_warning(
    redis_url: str, prefix: str, ami: AmiPeer
) -> None:
    ami.clock_offset = 42.0
    _, checks = await lines(redis_url, prefix, ami)
    clock = only(checks, "clock")
    assert clock.status == WARN and "42 s ahead of this machine's" in clock.message and "NTP" in clock.fix
    ami.clock_offset = -30.0
    _, checks = await lines(redis_url, prefix, ami)
    assert "30 s behind" in only(checks, "clock").message


async def test_asterisks_timezone_is_compared_with_odoos_in_winter_and_summer(
    redis_url: str, prefix: str, ami: AmiPeer
) -> None:
    facts, _ = await lines(redis_url, prefix, ami)
    assert set(facts.offsets) == {"now", "january", "july"}
    good = timezone_check(facts, TZ)
    assert good.status == OK and TZ in good.message

    ami.timezone = "UTC"
    facts, _ = await lines(redis_url, prefix, ami)
    bad = timezone_check(facts, TZ)
    assert bad.status == WARN and "now: Asterisk +0000, Europe/Brussels +0" in bad.message
    assert "Timezone of the Asterisk Server form" in bad.fix

    # Europe/London and UTC agree in winter only: whatever the date today, they are told apart.
    ami.timezone = "Europe/London"
    facts, _ = await lines(redis_url, prefix, ami)
    dst = timezone_check(facts, "UTC")
    assert dst.status == WARN
    assert "july: Asterisk +0100, UTC +0000" in dst.message or "now: Asterisk +0100, UTC +0000" in dst.message


def test_a_zone_differing_only_in_summer_is_said_to_be_off_part_of_the_year() -> None:
    facts = AmiFacts(logged_in=True, offsets={"now": "+0000", "january": "+0000", "july": "+0100"})
    check = timezone_check(facts, "UTC")
    assert check.status == WARN and "july: Asterisk +0100, UTC +0000" in check.message
    assert "part of the year" in check.message and "january" not in check.message


async def test_the_timezone_without_getvar_or_without_odoo(redis_url: str, prefix: str, ami: AmiPeer) -> None:
    ami.perms[AMI_USER] = Perms(read="all", write="system,command,originate")  # Getvar: call or reporting
    facts, _ = await lines(redis_url, prefix, ami)
    check = timezone_check(facts, TZ)
    assert check.status == WARN and "cannot be read" in check.message and "Permission denied" in check.message
    assert timezone_check(facts, None).status == SKIP
    assert timezone_check(AmiFacts(), TZ).status == SKIP
    assert timezone_check(AmiFacts(logged_in=True, offsets={"now": "+0000"}), "Mars/Olympus").status == FAIL
