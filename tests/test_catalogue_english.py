"""Every word in its language (issue 12): every source string has its English translation."""

from __future__ import annotations

import subprocess
import sys

from babel.messages.pofile import read_po

from tests.conftest import ROOT


def test_every_source_string_has_its_english_translation(tmp_path):
    """The catalogue extracted afresh from the code and the templates, against translations/en."""
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(template), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as handle:
        wanted = [m.id for m in read_po(handle) if m.id]
    assert len(wanted) > 1000, "the extraction found too little: is babel.cfg still right?"
    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        english = read_po(handle)
    missing = []
    for msgid in wanted:
        message = english.get(msgid)
        translated = message is not None and not message.fuzzy and (
            all(message.string) if isinstance(message.string, tuple) else bool(message.string))
        if not translated:
            missing.append(msgid if isinstance(msgid, str) else msgid[0])
    assert missing == [], f"{len(missing)} strings without an English translation, e.g. {missing[:10]}"
