"""1.1.0: a PBX user's one `channel` became a list of phones; the old value is its first phone."""


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'asterisk_plus_user' AND column_name = 'channel'
        """
    )
    if not cr.fetchone():
        return
    cr.execute(
        """
        INSERT INTO asterisk_plus_user_channel (pbx_user_id, name, sequence, originate, auto_answer,
                                                auto_answer_header, create_date, write_date)
        SELECT u.id, u.channel, 10, true, false, 'Call-Info: answer-after=0', now() at time zone 'UTC',
               now() at time zone 'UTC'
          FROM asterisk_plus_user u
         WHERE u.channel IS NOT NULL AND u.channel != ''
           AND NOT EXISTS (SELECT 1 FROM asterisk_plus_user_channel c WHERE c.pbx_user_id = u.id)
        """
    )
