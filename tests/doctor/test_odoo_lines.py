"""odoo.login, odoo.module and passwords against the Odoo peer, which checks the server record and its system
account as the module does."""

from __future__ import annotations

from peers.odoo_peer import OdooPeer
from services.doctor import FAIL, OK, SKIP, WARN, Check
from services.doctor import odoo as doctor_odoo
from services.doctor.odoo import OdooFacts, password_check

from .conftest import ODOO_PASSWORD, doctor_settings, only


async def lines(
    redis_url: str, prefix: str, peer: OdooPeer, **overrides: object
) -> tuple[OdooFacts, list[Check]]:
    checks: list[Check] = []
    facts = await doctor_odoo.gather(doctor_settings(redis_url, prefix, odoo=peer, **overrides), checks)
    return facts, checks


async def test_the_system_account_logs_in_and_finds_its_server_and_module(
    redis_url: str, prefix: str, odoo: OdooPeer
) -> None:
    facts, checks = await lines(redis_url, prefix, odoo)
    login, module = only(checks, "odoo.login"), only(checks, "odoo.module")
    assert login.status == OK and "Odoo 18.0" in login.message and f"asterisk1@{odoo.url}" in login.message
    assert module.status == OK and "asterisk_plus 18.0.1.1.0, server asterisk1 found" in module.message
    assert facts.config is not None and facts.config["tz"] == "Europe/Brussels"


async def test_a_wrong_password_fails_the_login(redis_url: str, prefix: str, odoo: OdooPeer) -> None:
    facts, checks = await lines(redis_url, prefix, odoo, odoo_password="nope")
    login = only(checks, "odoo.login")
    assert login.status == FAIL and "Odoo refused" in login.message and "ODOO_PASSWORD" in login.fix
    assert not facts.logged_in and [c.name for c in checks] == ["odoo.login"]


async def test_odoo_not_answering_fails_the_login(redis_url: str, prefix: str, odoo: OdooPeer) -> None:
    await odoo.stop()
    _, checks = await lines(redis_url, prefix, odoo)
    login = only(checks, "odoo.login")
    assert (
        login.status == FAIL
        and f"cannot reach Odoo at {odoo.url}" in login.message
        and "ODOO_URL" in login.fix
    )


async def test_an_unknown_server_or_another_account_fails_the_module_line(
    redis_url: str, prefix: str, odoo: OdooPeer
) -> None:
    _, checks = await lines(redis_url, prefix, odoo, agent_server="asterisk9")
    module = only(checks, "odoo.module")
    assert module.status == FAIL and "No Asterisk server named asterisk9" in module.message
    assert "create the Asterisk Server asterisk9" in module.fix

    _, checks = await lines(redis_url, prefix, odoo, odoo_user="admin", odoo_password="admin")
    module = only(checks, "odoo.module")
    assert module.status == FAIL and "AccessError" in module.message and "system account" in module.fix


async def test_a_module_too_old_or_silent_about_its_version_is_a_warning(
    redis_url: str, prefix: str, odoo: OdooPeer
) -> None:
    odoo.config["module_version"] = "17.0.1.0.0"
    _, checks = await lines(redis_url, prefix, odoo)
    module = only(checks, "odoo.module")
    assert (
        module.status == WARN
        and "17.0.1.0.0 is older than 1.1.0" in module.message
        and "Upgrade" in module.fix
    )
    del odoo.config["module_version"]
    _, checks = await lines(redis_url, prefix, odoo)
    assert only(checks, "odoo.module").status == WARN
    assert "does not say its version" in only(checks, "odoo.module").message


async def test_the_seeds_default_passwords_are_a_warning(redis_url: str, prefix: str, odoo: OdooPeer) -> None:
    odoo.users["asterisk1"] = "asterisk1"
    settings = doctor_settings(redis_url, prefix, odoo=odoo, odoo_password="asterisk1", ami_secret="admin")
    facts = await doctor_odoo.gather(settings, [])
    check = password_check(settings, facts, ami_logged_in=True)
    assert check.status == WARN and "Odoo system account asterisk1 (asterisk1)" in check.message
    assert "AMI user agent (admin)" in check.message and "Password on the Asterisk Server form" in check.fix

    fine = doctor_settings(redis_url, prefix, odoo=odoo, odoo_password=ODOO_PASSWORD)
    odoo.users["asterisk1"] = ODOO_PASSWORD
    assert password_check(fine, await doctor_odoo.gather(fine, []), ami_logged_in=True).status == OK
    assert password_check(fine, OdooFacts(), ami_logged_in=False).status == SKIP
