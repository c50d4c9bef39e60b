"""An upload from Odoo cannot make Asterisk run programs (#exec, execincludes=yes) or read files outside its
conf directory (#include, #tryinclude), cannot be too many or too big, and a malformed one is answered: the
reason reaches the user in Odoo and nothing is written."""

from __future__ import annotations

import pytest

from services.bus import deadline_after, keys
from services.conf_sync.files import ConfError, Rules, check_upload, parse_upload

from .conftest import Stack, send_upload, stop_sync, wait_result

RULES = Rules(conf_dirs=("/etc/asterisk",))


def upload(name: str, content: str, rules: Rules = RULES) -> None:
    check_upload([{"name": name, "content": content}], rules)


@pytest.mark.parametrize(
    "content",
    [
        "[general]\n#exec /usr/local/bin/make-peers.sh\n",
        "  #EXEC \"/bin/sh -c 'id > /tmp/x'\"\n",
        "#exec\t/bin/true ; with a comment\n",
        ";-- a block\ncomment --; #exec /bin/true\n",  # code after the block's end counts
    ],
    ids=["plain", "upper-case-quoted", "tab", "after-a-block-comment"],
)
def test_exec_is_refused_naming_file_line_and_setting(content: str) -> None:
    with pytest.raises(
        ConfError, match=r"extensions\.conf line \d: #exec runs a program .*CONF_ALLOW_EXEC=yes"
    ):
        upload("extensions.conf", content)
    upload("extensions.conf", content, Rules(allow_exec=True))  # the site's choice


@pytest.mark.parametrize(
    "content",
    [
        ";#exec /bin/true\n",
        "exten => 1,1,NoOp() ; #exec /bin/true\n",
        ";-- old:\n#exec /bin/true\n#include /etc/passwd\n--;\n",
        "# exec /bin/true\n",  # '#' then a blank: no directive Asterisk knows
        "exten => 1,1,Set(X=a\\;#exec)\n",  # an escaped ';' inside a value
    ],
    ids=["line-comment", "trailing-comment", "block-comment", "not-a-directive", "escaped-semicolon"],
)
def test_what_asterisk_does_not_read_as_a_directive_passes(content: str) -> None:
    upload("extensions.conf", content)


@pytest.mark.parametrize(
    "line", ["execincludes=yes", "ExecIncludes = On", "execincludes => true", "execincludes=1"]
)
def test_execincludes_in_asterisk_conf_options_is_refused(line: str) -> None:
    content = f"[directories]\nastetcdir => /etc/asterisk\n[options]\nverbose = 3\n{line}\n"
    with pytest.raises(ConfError, match=r"asterisk\.conf line 5: execincludes=yes .*CONF_ALLOW_EXEC=yes"):
        upload("asterisk.conf", content)
    upload("asterisk.conf", content, Rules(allow_exec=True))
    upload("asterisk.conf", content.replace(line, "execincludes=no"))
    upload("other.conf", content)  # only asterisk.conf's [options] turns it on


@pytest.mark.parametrize(
    ("directive", "path"),
    [
        ("#include", "/etc/passwd"),
        ("#include", '"/root/.ssh/id_rsa"'),
        ("#tryinclude", "<../../etc/shadow>"),
        ("#include", "../secrets.conf"),
        ("#include", "sub/../../x.conf"),
        ("#INCLUDE", "/etc/asterisk/../passwd"),
        ("#include", "/etc/asterisk-other/x.conf"),  # a neighbour whose name starts the same
    ],
)
def test_an_include_outside_the_conf_directory_is_refused(directive: str, path: str) -> None:
    with pytest.raises(ConfError, match=r"pjsip\.conf line 2: #(include|tryinclude) .* reads a file outside"):
        upload("pjsip.conf", f"[global]\n{directive} {path}\n")
    upload("pjsip.conf", f"[global]\n{directive} {path}\n", Rules(allow_include_outside=True))


@pytest.mark.parametrize(
    "path",
    ["pjsip_custom.conf", '"pjsip.d/*.conf"', "<users.conf>", "/etc/asterisk/custom.conf", "a/../b.conf"],
)
def test_an_include_inside_the_conf_directory_passes(path: str) -> None:
    upload("pjsip.conf", f"#include {path}\n#tryinclude {path}\n")


def test_too_many_files_or_too_many_bytes_in_one_upload_are_refused() -> None:
    rules = Rules(max_files=3, max_total_bytes=100)
    files = [{"name": f"f{i}.conf", "content": "x=1\n"} for i in range(4)]
    with pytest.raises(ConfError, match=r"4 files in one upload, at most 3 \(CONF_MAX_FILES\)"):
        check_upload(files, rules)
    check_upload(files[:3], rules)
    big = [{"name": f"f{i}.conf", "content": "x" * 40} for i in range(3)]
    with pytest.raises(ConfError, match=r"over 100 bytes in all \(CONF_MAX_UPLOAD_BYTES\)"):
        check_upload(big, rules)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (None, "no payload"),
        ("{not json", "not JSON"),
        ('["a.conf"]', "must be an object, not list"),
        ('{"reload": true}', "no files"),
        ('{"files": "sip.conf", "reload": true}', "files must be a list, not str"),
        ('{"files": ["sip.conf"]}', "file 1 must be an object with name and content"),
        ('{"files": [{"content": "x"}]}', "refused file name None"),
        ('{"files": [{"name": "a.conf", "content": 5}]}', "a.conf: content must be text"),
        ('{"files": [], "reload": "no"}', "reload must be true or false, not 'no'"),
    ],
    ids=["none", "bad-json", "list", "no-files", "files-str", "file-str", "no-name", "content-int", "reload"],
)
def test_a_malformed_payload_is_named(raw: str | None, why: str) -> None:
    with pytest.raises(ConfError, match=why):
        files, _ = parse_upload(raw)
        check_upload(files, RULES)


# -- through the service: the user in Odoo reads why, nothing is written, nothing is dead-lettered ----------


async def test_a_refused_upload_tells_the_user_in_odoo_why_and_writes_nothing(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, sync_at_start=False)
    sync, stop, task = await stack.start_conf_sync()
    before = {p.name: p.read_text() for p in stack.root.iterdir()}
    cases = {
        "exec": [{"name": "extensions.conf", "content": "[demo]\n#exec /bin/sh -c id\n"}],
        "execincludes": [{"name": "asterisk.conf", "content": "[options]\nexecincludes=yes\n"}],
        "include": [
            {"name": "sip.conf", "content": "[general]\nfine=1\n"},
            {"name": "pjsip.conf", "content": "#include /etc/shadow\n"},
        ],
    }
    for case, files in cases.items():
        await send_upload(stack, f"up-{case}", files, uid=7)
    results = {case: await wait_result(stack, f"up-{case}") for case in cases}
    assert {p.name: p.read_text() for p in stack.root.iterdir()} == before  # not even sip.conf
    for result in results.values():
        assert result["@status"] == "error" and result["@uid"] == "7"
        assert result["@error"].startswith("upload refused, nothing written: ")
    assert "extensions.conf line 2: #exec runs a program" in results["exec"]["@error"]
    assert "asterisk.conf line 2: execincludes=yes" in results["execincludes"]["@error"]
    assert f"#include /etc/shadow reads a file outside {stack.root}" in results["include"]["@error"]
    assert stack.reloads() == 0
    await stop_sync(sync, stop, task)


async def test_a_site_that_allows_exec_gets_it_written(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, sync_at_start=False)
    sync, stop, task = await stack.start_conf_sync(conf_allow_exec=True)
    files = [{"name": "extensions.conf", "content": "#exec /usr/local/bin/peers.sh\n"}]
    await send_upload(stack, "up-ok", files, reload=False)
    result = await wait_result(stack, "up-ok")
    assert result["@status"] == "ok"
    assert (stack.root / "extensions.conf").read_text() == "#exec /usr/local/bin/peers.sh\n"
    await stop_sync(sync, stop, task)


async def test_limits_on_files_and_bytes_per_upload_reach_the_user(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, sync_at_start=False)
    sync, stop, task = await stack.start_conf_sync(conf_max_files=2, conf_max_upload_bytes=1000)
    many = [{"name": f"f{i}.conf", "content": "x=1\n"} for i in range(3)]
    big = [{"name": f"f{i}.conf", "content": "x" * 600} for i in range(2)]
    for rid, files in (("many", many), ("big", big)):
        await send_upload(stack, rid, files)
    many_result = await wait_result(stack, "many")
    big_result = await wait_result(stack, "big")
    assert "3 files in one upload, at most 2 (CONF_MAX_FILES)" in many_result["@error"]
    assert "over 1000 bytes in all (CONF_MAX_UPLOAD_BYTES)" in big_result["@error"]
    assert not list(stack.root.glob("f*.conf"))
    await stop_sync(sync, stop, task)


async def test_a_malformed_upload_is_answered_not_only_dead_lettered(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, sync_at_start=False)
    sync, stop, task = await stack.start_conf_sync()
    stream = stack.bus.key(keys.commands("conf_sync"))
    bad = {
        "bad-json": {"@json": "{not json"},
        "no-payload": {},
        "files-str": {"@json": '{"files": "sip.conf"}'},
        "item-str": {"@json": '{"files": ["sip.conf"]}'},
        "reload-str": {"@json": '{"files": [], "reload": "no"}'},
    }
    for rid, fields in bad.items():
        await stack.bus.redis.xadd(stream, {"@type": "upload", "@id": rid, "@uid": "7", **fields})
    # A requester with a replies stream of its own (the `pbx` CLI, a script) is answered there as well.
    await stack.bus.redis.xadd(
        stream,
        {"@type": "upload", "@id": "cli-1", "@reply_to": "replies:cli", "@deadline": deadline_after(30)},
    )
    results = {rid: await wait_result(stack, rid) for rid in [*bad, "cli-1"]}
    assert all(r["@status"] == "error" and r["@error"].startswith("upload refused") for r in results.values())
    assert "malformed upload: the payload is not JSON" in results["bad-json"]["@error"]
    assert "malformed upload: no payload (@json)" in results["no-payload"]["@error"]
    assert "files must be a list, not str" in results["files-str"]["@error"]
    assert "file 1 must be an object" in results["item-str"]["@error"]
    assert "reload must be true or false" in results["reload-str"]["@error"]
    (reply,) = [f for _, f in await stack.bus.redis.xrange(stack.bus.key("replies:cli"))]
    assert reply["@id"] == "cli-1" and reply["@status"] == "error" and "no payload" in reply["@error"]
    assert await stack.bus.redis.xlen(stack.bus.key(keys.DEAD)) == 0
    await stop_sync(sync, stop, task)
