"""Who may listen to a recording, in a real Odoo: the call's participants, Call Managers and admins; nobody
else, through the ORM or through the URL the player uses (/web/content, over HTTP). Keep-forever is the
managers'."""

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, tagged

from .recording_items_for_tests import MP3


def make_users(env):
    def user(login, group):
        return env["res.users"].create(
            {
                "name": login,
                "login": login,
                "password": f"{login}-pass-1234",
                "groups_id": [(6, 0, [env.ref(group).id])],
            }
        )

    return (
        user("rec_participant", "asterisk_plus.group_user"),
        user("rec_other", "asterisk_plus.group_user"),
        user("rec_manager", "asterisk_plus.group_call_manager"),
    )


def make_recording(env, participant, with_call=True):
    server = env.ref("asterisk_plus.server_asterisk1")
    call = env["asterisk_plus.call"]
    if with_call:
        call = call.create(
            {
                "server_id": server.id,
                "linkedid": "1796104207.0",
                "status": "answered",
                "participant_ids": [(6, 0, [participant.id])],
            }
        )
    attachment = env["ir.attachment"].create(
        {
            "name": "rec-1796104207.3.mp3",
            "mimetype": "audio/mpeg",
            "raw": MP3,
            "res_model": "asterisk_plus.call",
            "res_id": call.id or False,
        }
    )
    return env["asterisk_plus.recording"].create(
        {
            "name": attachment.name,
            "server_id": server.id,
            "key": "a" * 64,
            "call_id": call.id or False,
            "status": "ok",
            "attachment_id": attachment.id,
            "size": len(MP3),
        }
    )


@tagged("post_install", "-at_install")
class TestWhoMayListen(TransactionCase):
    def setUp(self):
        super().setUp()
        self.participant, self.other, self.manager = make_users(self.env)

    def test_the_participant_and_a_call_manager_listen_another_user_does_not(self):
        rec = make_recording(self.env, self.participant)
        for user in (self.participant, self.manager, self.env.ref("base.user_admin")):
            mine = rec.with_user(user)
            self.assertEqual(mine.search([("id", "=", rec.id)]), rec, user.login)
            self.assertEqual(mine.attachment_id.raw, MP3, user.login)
            self.assertEqual(mine.call_id.recording_url, f"/web/content/{rec.attachment_id.id}")
        theirs = rec.with_user(self.other)
        self.assertFalse(theirs.search([("id", "=", rec.id)]))
        with self.assertRaises(AccessError):
            theirs.read(["name"])
        with self.assertRaises(AccessError):
            rec.attachment_id.with_user(self.other).read(["raw"])

    def test_a_recording_whose_call_is_not_known_yet_is_for_nobody_but_system_admins(self):
        rec = make_recording(self.env, self.participant, with_call=False)
        self.assertFalse(rec.with_user(self.participant).search([("id", "=", rec.id)]))
        self.assertEqual(
            rec.with_user(self.manager).search([("id", "=", rec.id)]), rec
        )  # managers see it is there
        with self.assertRaises(AccessError):  # but not its audio, until it is on its call
            rec.attachment_id.with_user(self.manager).read(["raw"])
        self.assertEqual(rec.attachment_id.with_user(self.env.ref("base.user_admin")).raw, MP3)

    def test_keep_forever_is_for_call_managers(self):
        rec = make_recording(self.env, self.participant)
        with self.assertRaises(AccessError):
            rec.with_user(self.participant).action_keep()
        with self.assertRaises(AccessError):
            rec.with_user(self.participant).write({"keep": True})
        rec.with_user(self.manager).action_keep()
        self.assertTrue(rec.keep)
        rec.with_user(self.manager).action_unkeep()
        self.assertFalse(rec.keep)

    def test_deleting_a_recording_deletes_its_mp3(self):
        rec = make_recording(self.env, self.participant)
        attachment = rec.attachment_id
        with self.assertRaises(AccessError):
            rec.with_user(self.manager).unlink()
        rec.unlink()
        self.assertFalse(attachment.exists())


@tagged("post_install", "-at_install")
class TestListenOverHttp(HttpCase):
    def test_the_players_url_gives_the_mp3_to_the_participant_only(self):
        participant, other, manager = make_users(self.env)
        rec = make_recording(self.env, participant)
        url = rec.audio_url
        for user, allowed in ((participant, True), (manager, True), (other, False)):
            self.authenticate(user.login, f"{user.login}-pass-1234")
            response = self.url_open(url)
            if allowed:
                self.assertEqual(response.status_code, 200, user.login)
                self.assertEqual(response.headers["Content-Type"], "audio/mpeg")
                self.assertEqual(response.content, MP3)
            else:
                self.assertIn(response.status_code, (403, 404), user.login)
                self.assertNotEqual(response.content, MP3)
