"""What the developer API reads of the bridge's items (odoo_addons/asterisk_plus/developer_items.py), without
Odoo: an item is taken only when it is exactly its bus entry, and an OdooExecute UserEvent as Asterisk 22
sends it (names after a comma with their leading space) gives its model, method and JSON args."""

from __future__ import annotations

import pytest

from services.bus import Entry, encode

from .module_files import load

di = load("developer_items")

FIELDS = encode(
    {"Response": "Success", "Output": ["line 1", "line 2"], "Ping": "Pong"},
    type="reply",
    id="req-1",
    status="ok",
    server="asterisk1",
)


def item_of(fields: dict[str, str]) -> dict[str, object]:
    """The item the bridge sends for an entry (Entry.as_item), with the bridge's additions."""
    item = Entry.from_fields("odoo_replies", "1-0", fields).as_item()
    item.update({"@time": "2026-12-02T01:00:00.000000Z", "@e164": {}})
    return item


def test_an_item_is_exactly_its_entry_repeated_headers_included() -> None:
    assert FIELDS["Output#2"] == "line 2"
    assert di.exact(item_of(FIELDS), FIELDS)


@pytest.mark.parametrize(
    "change",
    [
        {"Ping": "Forged"},
        {"Extra": "1"},
        {"@status": "error"},
        {"Output": ["line 1"]},
    ],
)
def test_a_changed_added_or_missing_field_is_not_the_entry(change: dict[str, object]) -> None:
    assert not di.exact({**item_of(FIELDS), **change}, FIELDS)
    assert not di.exact(item_of(FIELDS), None)


def test_a_reply_becomes_the_callbacks_result() -> None:
    fields = encode({"Response": "Error"}, type="reply", id="r", status="error", error="Permission denied")
    result = di.reply_result(item_of(fields), "r")
    assert (result["ok"], result["timeout"], result["error"]) == (False, False, "Permission denied")
    assert result["headers"] == {"Response": "Error"} and result["items"] is None
    listed = encode({"Response": "Success"}, type="reply", id="r", status="ok", json='[{"Event": "Peer"}]')
    assert di.reply_result(item_of(listed), "r")["items"] == [{"Event": "Peer"}]
    assert di.timeout_result("r", 30)["timeout"] is True


def test_an_odoo_execute_user_event_as_asterisk_sends_it() -> None:
    item = {
        "Event": "UserEvent",
        "UserEvent": "OdooExecute",
        " Model": "asterisk_plus.callback_request",
        " Method": "request_callback",
        " Args": '{"number": "0470123456", "user": "admin"}',
    }
    assert di.execute_call(item) == (
        "asterisk_plus.callback_request",
        "request_callback",
        {"number": "0470123456", "user": "admin"},
    )
    assert di.execute_call({**item, " Args": ""})[2] == {}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"UserEvent": "Other"}, "not a UserEvent OdooExecute"),
        ({" Method": ""}, "needs Model and Method"),
        ({" Args": '{"number": "1"'}, "Args is not JSON"),
        ({" Args": '["a list"]'}, "JSON object"),
    ],
)
def test_a_malformed_one_says_why(change: dict[str, str], why: str) -> None:
    item = {"Event": "UserEvent", "UserEvent": "OdooExecute", " Model": "m", " Method": "f", " Args": "{}"}
    with pytest.raises(di.NotACall, match=why):
        di.execute_call({**item, **change})
