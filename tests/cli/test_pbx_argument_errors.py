"""`pbx` with wrong arguments: argparse's usage and exit code 2, before anything touches Redis; the
commands listed by --help; the doctor's imports made only when `pbx doctor` runs."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT, pbx_env, run_pbx

COMMANDS = ("streams", "tail", "action", "send", "dead", "status", "doctor")
# Nothing listens there: a command that reached for Redis would fail otherwise than with a usage error.
NO_REDIS = "redis://127.0.0.1:1/0"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "the following arguments are required: cmd"),
        (("bogus",), "argument cmd: invalid choice: 'bogus'"),
        (("tail",), "the following arguments are required: stream"),
        (("tail", "events", "--count", "many"), "argument --count: invalid int value: 'many'"),
        (("action",), "the following arguments are required: action"),
        (("action", "Ping", "--timeout", "soon"), "argument --timeout: invalid float value: 'soon'"),
        (("send", "guard"), "the following arguments are required: type"),
        (("dead", "--count"), "argument --count: expected one argument"),
        (("doctor", "--max-lag", "1.5"), "argument --max-lag: invalid int value: '1.5'"),
        (("streams", "--from", "0"), "unrecognized arguments: --from 0"),
    ],
)
def test_a_usage_error_exits_2_and_names_it(args: tuple[str, ...], says: str) -> None:
    done = run_pbx(NO_REDIS, "p", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("usage: pbx")
    assert f"error: {says}" in done.stderr


def test_help_lists_every_command() -> None:
    done = run_pbx(NO_REDIS, "p", "--help")
    assert done.returncode == 0
    assert "{" + ",".join(COMMANDS) + "}" in done.stdout
    for command in COMMANDS:
        assert f"pbx {command}" in done.stdout


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "doctor"])
def test_each_command_has_its_help(command: str) -> None:
    done = run_pbx(NO_REDIS, "p", command, "--help")
    assert done.returncode == 0 and done.stdout.startswith(f"usage: pbx {command}")


def imports_after(redis_url: str, prefix: str, *args: str) -> set[str]:
    """The modules loaded once `pbx <args>` has run (in a process of its own, as the command does)."""
    code = "import sys; from services.cli import main; main(sys.argv[1:]); print(*sorted(sys.modules))"
    # The doctor's AMI and Odoo at ports where nothing listens: its lines fail at once, whatever runs here.
    env = pbx_env(redis_url, prefix) | {"AMI_PORT": "1", "ODOO_URL": "http://127.0.0.1:1"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.stderr == ""
    return set(done.stdout.splitlines()[-1].split())


def doctor_modules(modules: set[str]) -> set[str]:
    return {m for m in modules if m == "services.doctor" or m.startswith("services.doctor.")}


def test_the_doctor_is_loaded_only_for_pbx_doctor(redis_url: str, prefix: str) -> None:
    assert doctor_modules(imports_after(redis_url, prefix, "status")) == set()
    assert doctor_modules(imports_after(redis_url, prefix, "streams")) == set()
    assert "services.doctor.run" in doctor_modules(imports_after(redis_url, prefix, "doctor"))
