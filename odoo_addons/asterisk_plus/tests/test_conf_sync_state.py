"""What the conf files say about their sync is true: a file made or edited in Odoo is changed until conf_sync
answers the Upload (or Apply) that took it to Asterisk; its answer (`conf.result`, @id = the Upload's @id) is
taken from the bus only. Real redis-server, as in test_security."""

from odoo.tests import tagged

from .test_security import SecurityCase


@tagged("post_install", "-at_install")
class TestConfSyncState(SecurityCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        self.server.write({"initial_update_done": True, "update_direction": "odoo_to_asterisk"})
        self.env["asterisk_plus.conf"].search([("server_id", "=", self.server.id)]).unlink()
        self.files = self.env["asterisk_plus.conf"]
        self.sip = self.files.create(
            {"name": "sip.conf", "server_id": self.server.id, "content": "[general]\n"}
        )
        self.ext = self.files.create(
            {"name": "extensions.conf", "server_id": self.server.id, "content": "[default]\n"}
        )
        self.as_admin = self.admin()

    def result(self, request_id, status="ok", request_type="upload", bus=True):
        """conf_sync's answer to a request, as it writes it onto to_odoo (services/conf_sync/sync.py)."""
        fields = {
            "@type": "conf.result",
            "@server": "asterisk1",
            "@id": request_id,
            "@status": status,
            "@error": "" if status == "ok" else "upload refused, nothing written: #exec",
            "@request_type": request_type,
            "@uid": str(self.as_admin.uid),
            "@user": "pbxadmin",
            "Message": "2 file(s) changed on Asterisk; Asterisk reloaded" if status == "ok" else "refused",
        }
        return self.on_bus("to_odoo", fields) if bus else dict(fields, **{"@entry": "1-0"})

    def reply(self, *items):
        return self.as_system["asterisk_plus.server"].bridge_on_replies("asterisk1", list(items))

    def upload(self):
        """The server form's Upload, committed: the request id on the bus."""
        self.server.with_env(self.as_admin).action_upload_conf()
        self.commit_hooks()
        [request] = [e for e in self.entries("commands:conf_sync") if e["@type"] == "upload"][-1:]
        return request["@id"]

    def states(self):
        return {f.name: f.sync_state for f in (self.sip | self.ext)}

    def test_a_file_made_in_odoo_is_changed_one_from_asterisk_is_not(self):
        self.assertEqual(self.states(), {"sip.conf": "changed", "extensions.conf": "changed"})
        self.assertTrue(self.sip.changed_since_sync)
        from_agent = self.files.with_context(from_agent=True).create(
            {"name": "pjsip.conf", "server_id": self.server.id, "content": ""}
        )
        self.assertFalse(from_agent.changed_since_sync)
        self.assertEqual(from_agent.sync_state, "synced")

    def test_upload_is_synced_when_conf_sync_says_so(self):
        request = self.upload()
        self.assertEqual(self.states(), {"sip.conf": "sent", "extensions.conf": "sent"})
        self.assertTrue(self.sip.changed_since_sync)  # sent is not written yet
        self.assertEqual(self.sip.upload_request_id, request)
        [outcome] = self.reply(self.result(request))
        self.assertEqual(outcome["status"], "ok")
        self.assertEqual(self.states(), {"sip.conf": "synced", "extensions.conf": "synced"})
        self.assertEqual(self.sip.sync_direction, "to_asterisk")
        self.assertTrue(self.sip.synced_at)
        self.assertFalse(self.sip.upload_request_id)
        # Found by the list's filter as the admin sees it.
        changed = self.files.search([("server_id", "=", self.server.id), ("changed_since_sync", "=", True)])
        self.assertFalse(changed)

    def test_a_refused_upload_leaves_the_files_changed(self):
        request = self.upload()
        self.reply(self.result(request, status="error"))
        self.assertEqual(self.states(), {"sip.conf": "changed", "extensions.conf": "changed"})
        self.assertFalse(self.sip.upload_request_id)

    def test_an_answer_not_on_the_bus_or_to_another_request_changes_nothing(self):
        request = self.upload()
        self.reply(
            self.result(request, bus=False),  # forged by whoever has the system account's password
            self.result("0" * 32),  # on the bus, but no file was sent by it
            self.result(request, request_type="download"),  # not an Upload's answer
        )
        self.assertEqual(self.states(), {"sip.conf": "sent", "extensions.conf": "sent"})

    def test_a_file_edited_after_the_upload_stays_changed(self):
        request = self.upload()
        self.sip.content = "[general]\nudpbindaddr=0.0.0.0\n"
        self.assertEqual(self.sip.sync_state, "changed")
        self.reply(self.result(request))
        self.assertEqual(self.states(), {"sip.conf": "changed", "extensions.conf": "synced"})

    def test_apply_sends_the_changed_files_only_and_they_are_synced_on_the_answer(self):
        request = self.upload()
        self.reply(self.result(request))
        self.ext.content = "[default]\nexten => 100,1,Answer()\n"
        self.files.with_env(self.as_admin).action_apply_changes()
        self.commit_hooks()
        apply = self.entries("commands:conf_sync")[-1]
        self.assertEqual(apply["@type"], "upload")
        self.assertIn("exten => 100", apply["@json"])
        self.assertNotIn("sip.conf", apply["@json"])
        self.assertEqual(self.states(), {"sip.conf": "synced", "extensions.conf": "sent"})
        self.reply(self.result(apply["@id"]))
        self.assertEqual(self.states(), {"sip.conf": "synced", "extensions.conf": "synced"})
