"""Digest settings with their defaults.

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
    # Socket timeout for the SMTP conversation, in seconds.
    "DIGEST_SMTP_TIMEOUT": 30,
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
