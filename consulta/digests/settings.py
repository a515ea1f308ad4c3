"""Digest and outbox settings with their defaults.

They are read from the app config first, then from an environment variable of
the same name (so `DIGEST_MAX_ATTEMPTS=3 flask send-digests` works even before
config.py lists them), then fall back to the default here.
"""

from __future__ import annotations

import os

from flask import current_app

DEFAULTS: dict[str, int | bool | str | None] = {
    # Delivery attempts before a digest is marked failed and reported.
    "DIGEST_MAX_ATTEMPTS": 5,
    # First retry after this many seconds, doubling at each further attempt.
    "DIGEST_RETRY_BASE_SECONDS": 300,
    # A row left in `sending` longer than this was interrupted (crash, SIGKILL).
    "DIGEST_SENDING_TIMEOUT": 900,
    # What to do with an interrupted row: False = report it as failed (at most once),
    # True = send it again (at least once). See docs/digests.md.
    "DIGEST_RESEND_INTERRUPTED": False,
    # Socket timeout of every SMTP connection (connect, each command and answer), in seconds.
    "SMTP_TIMEOUT": 10,
    # Immediate e-mails (verification, reset, convocations): attempts and first retry delay
    # (doubling); the digests keep their own DIGEST_MAX_ATTEMPTS / DIGEST_RETRY_BASE_SECONDS.
    "MAIL_MAX_ATTEMPTS": 6,
    "MAIL_RETRY_BASE_SECONDS": 30,
    # `flask send-mail --loop`: seconds between two looks at the outbox.
    "MAIL_SEND_INTERVAL": 5,
    # send-digests builds the digests of this many recipients at a time, in one transaction.
    "DIGEST_BATCH_SIZE": 200,
    # After this many consecutive connection failures the run stops trying: the rest stays pending.
    "DIGEST_SMTP_GIVE_UP_AFTER": 3,
    # The mailto: half of List-Unsubscribe; empty means the sender's address.
    "DIGEST_UNSUBSCRIBE_MAILTO": "",
    # Followers are warned this many days before a tavolo's proposal deadline.
    "DIGEST_DEADLINE_DAYS": 3,
    # Notifications older than this are not put into a digest (they stay on the site).
    "DIGEST_LOOKBACK_DAYS": 35,
    # Lines shown per section of a tavolo before "… e altri N aggiornamenti".
    "DIGEST_LINES_PER_SECTION": 8,
    "NOTIFICATIONS_PER_PAGE": 20,
    "OUTBOX_PER_PAGE": 50,
}


def setting(name: str):
    default = DEFAULTS[name]
    if name in current_app.config:
        return current_app.config[name]
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw
