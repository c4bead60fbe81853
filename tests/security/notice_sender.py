"""A worker sending confirmed notices, as its own process: the takedown crash test kills it.

``python -m tests.security.notice_sender USERNAME PASSWORD NOTICE_ID:DIGEST ...`` signs in
(the settings, database and SMTP server come from ``STOPSPREAD_*``), and for each notice not
yet marked sent calls ``send_notice`` and then prints ``sent ID MESSAGE-ID``: the
acknowledgement a worker's browser would get. A notice already marked sent is passed over,
as the notices page would no longer offer it.
"""

from __future__ import annotations

import os
import sys

from stopspread.config import load_settings
from stopspread.services.context import build_services
from stopspread.services.removal import notices
from stopspread.services.workers import accounts
from stopspread.storage import Database


def main(username: str, password: str, pairs: list[str]) -> None:
    settings = load_settings(os.environ, None)
    db = Database.from_settings(settings)  # sealed values opened with the same key
    try:
        svc = build_services(settings, db)
        who = accounts.login(svc, username, password, "127.0.0.1").identity
        for pair in pairs:
            notice_id, digest = int(pair.split(":")[0]), pair.split(":")[1]
            if notices.notice_view(svc, who, notice_id).sent:
                continue
            message_id = notices.send_notice(svc, who, notice_id, digest)
            print(f"sent {notice_id} {message_id}", flush=True)
    finally:
        db.dispose()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
