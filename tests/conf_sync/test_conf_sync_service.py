"""conf_sync with the real gateway, bridge, AMI peer and Odoo peer around it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from peers.odoo_peer import OdooPeer
from services.bus import keys
from tests.bus.helpers import eventually

from .conftest import Stack, conf_result, send_upload, stop_sync, wait_result


async def test_initial_update_sends_everything_and_overwrites_nothing_in_odoo(stack: Stack) -> None:
    stack.odoo.files["sip.conf"] = "[general]\nfrom=odoo\n"  # Odoo already has this name
    sync, stop, task = await stack.start_conf_sync()
    await eventually(lambda: _has_model(stack.odoo, "asterisk_plus.server", "bridge_on_initial_done"))
    assert stack.odoo_file("sip.conf") == "[general]\nfrom=odoo\n"  # kept
    assert stack.odoo_file("extensions.conf") == "[demo]\nexten => 100,1,Answer()\n"  # added
    await stop_sync(sync, stop, task)


async def _has_model(odoo: OdooPeer, model: str, method: str) -> bool:
    return any(r.model == model and r.method == method for r in odoo.received)


async def test_after_the_initial_update_odoo_to_asterisk_writes_odoos_files_and_reloads(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, update_direction="odoo_to_asterisk")
    stack.odoo.files["sip.conf"] = "[general]\nfrom=odoo\n"
    sync, stop, task = await stack.start_conf_sync()
    await eventually(lambda: _file_is(stack.root / "sip.conf", "[general]\nfrom=odoo\n"))
    await eventually(lambda: _reloaded(stack, 1))
    await stop_sync(sync, stop, task)


async def _file_is(path: Path, text: str) -> bool:
    return path.exists() and path.read_text() == text


async def _reloaded(stack: Stack, n: int) -> bool:
    return stack.reloads() >= n


async def test_asterisk_to_odoo_downloads_at_start_and_on_fullybooted_and_watches(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, update_direction="asterisk_to_odoo")
    stack.odoo.files["sip.conf"] = "[general]\nfrom=odoo\n"
    sync, stop, task = await stack.start_conf_sync()
    await eventually(lambda: _odoo_has(stack, "sip.conf", "[general]\nfrom=asterisk\n"))  # overwritten
    # FreePBX regenerates a file: it reaches Odoo without a click.
    (stack.root / "pjsip.conf").write_text("[101]\ntype=endpoint\n")
    await eventually(lambda: _odoo_has(stack, "pjsip.conf", "[101]\ntype=endpoint\n"))
    # Asterisk restarts: FullyBooted triggers a sync again.
    stack.odoo.files["sip.conf"] = "changed in odoo meanwhile"
    stack.ami.drop_connections()
    await eventually(lambda: _odoo_has(stack, "sip.conf", "[general]\nfrom=asterisk\n"))
    await stop_sync(sync, stop, task)


async def _odoo_has(stack: Stack, name: str, text: str) -> bool:
    return stack.odoo_file(name) == text


async def test_upload_and_download_buttons_report_back_to_the_user(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, sync_at_start=False)
    sync, stop, task = await stack.start_conf_sync()
    await asyncio.sleep(0.3)
    reloads = stack.reloads()
    files = [
        {"name": "sip.conf", "content": "[general]\nuploaded=1\n"},
        {"name": "new.conf", "content": "x=1\n"},
    ]
    await send_upload(stack, "req-up", files, reload=True, uid=7)
    await eventually(lambda: conf_result(stack, "req-up"))
    assert (stack.root / "sip.conf").read_text() == "[general]\nuploaded=1\n"
    assert (stack.root / "new.conf").read_text() == "x=1\n"
    assert stack.reloads() == reloads + 1
    result = await conf_result(stack, "req-up")
    assert result["@status"] == "ok" and result["@uid"] == "7" and "Asterisk reloaded" in result["Message"]

    bad = [{"name": "sip.conf", "content": "fine"}, {"name": "../../etc/passwd.conf", "content": "x"}]
    await send_upload(stack, "req-bad", bad, reload=True, uid=7)
    await eventually(lambda: conf_result(stack, "req-bad"))
    refused = await conf_result(stack, "req-bad")
    assert refused["@status"] == "error" and "nothing written" in refused["@error"]
    assert (
        stack.root / "sip.conf"
    ).read_text() == "[general]\nuploaded=1\n"  # the valid file was not written

    await stack.bus.publish(keys.commands("conf_sync"), None, type="download", id="req-down", uid=7)
    await eventually(lambda: conf_result(stack, "req-down"))
    assert stack.odoo_file("new.conf") == "x=1\n"
    await stop_sync(sync, stop, task)


async def test_odoo_marks_the_uploaded_files_synced_on_the_answer_to_its_upload(stack: Stack) -> None:
    """The module keeps a file changed until the conf.result with its Upload's @id says ok: that answer
    reaches Odoo (the peer keeps the state as models/conf.py does); a refused upload leaves them changed."""
    stack.odoo.config.update(initial_update_done=True, sync_at_start=False)
    sync, stop, task = await stack.start_conf_sync()
    stack.odoo.edit_file("sip.conf", "[general]\nedited=1\n")
    stack.odoo.edit_file("new.conf", "x=1\n")
    files = [{"name": n, "content": stack.odoo.files[n]} for n in ("sip.conf", "new.conf")]
    stack.odoo.upload_sent("up-1", ["sip.conf", "new.conf"])
    stack.odoo.edit_file("new.conf", "x=2\n")  # edited again before the answer came
    await send_upload(stack, "up-1", files, reload=False, uid=7)
    result = await wait_result(stack, "up-1")
    assert (result["@status"], result["@request_type"]) == ("ok", "upload")
    assert stack.odoo.changed == {"new.conf"}  # sip.conf synced; new.conf changed after it was sent

    evil = [{"name": "new.conf", "content": "#exec /bin/sh\n"}]
    stack.odoo.upload_sent("up-2", ["new.conf"])
    await send_upload(stack, "up-2", evil, reload=False, uid=7)
    refused = await wait_result(stack, "up-2")
    assert refused["@status"] == "error"
    assert stack.odoo.changed == {"new.conf"}
    assert (stack.root / "new.conf").read_text() == "x=1\n"
    await stop_sync(sync, stop, task)


async def test_two_racing_uploads_end_in_one_whole_version(stack: Stack) -> None:
    stack.odoo.config.update(initial_update_done=True, sync_at_start=False)
    sync, stop, task = await stack.start_conf_sync()
    names = [f"f{i}.conf" for i in range(20)]
    for tag in ("A", "B"):
        files = [{"name": n, "content": tag * 5000} for n in names]
        await send_upload(stack, f"race-{tag}", files, reload=False)
    await eventually(lambda: conf_result(stack, "race-B"))
    contents = {(stack.root / n).read_text() for n in names}
    assert contents in ({"A" * 5000}, {"B" * 5000})
    await stop_sync(sync, stop, task)
    assert json.dumps(sorted(p.name for p in stack.root.iterdir())).count(".tmp") == 0
