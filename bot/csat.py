"""The customer's satisfaction rating after a conversation with a person (issue 14).

When an agent closes a conversation, the customer is asked for a rating from 1 to 5
(`utter_ask_csat` in domain.yml: five buttons whose payloads are `/rate_service{"csat_rating":
"N"}`, so a tap is never read by the NLU). A typed answer to that question ("4", "5 stelle",
"4/5", "ottimo", "⭐⭐⭐⭐") is read by `parse_rating` and understood as the same payload
(bot/conversation_guards.py), only right after the question: elsewhere "4" stays what the NLU
says. action_record_rating stores it on the ticket (bot/support/handoff.py); the metrics' CSAT
is the share of ratings of 4 or 5.
"""

from __future__ import annotations

import json
import re

from bot.folding import fold

INTENT = "rate_service"
ENTITY = "csat_rating"
SATISFIED = 4  # 4 and 5 count as satisfied (the usual CSAT)
MAX_RATING_CHARS = 40  # an answer longer than this is a sentence, not a rating

WORDS = {
    "uno": 1,
    "due": 2,
    "tre": 3,
    "quattro": 4,
    "cinque": 5,
    "pessimo": 1,
    "pessima": 1,
    "terribile": 1,
    "scarso": 2,
    "scarsa": 2,
    "insufficiente": 2,
    "sufficiente": 3,
    "discreto": 3,
    "discreta": 3,
    "buono": 4,
    "buona": 4,
    "ottimo": 5,
    "ottima": 5,
    "eccellente": 5,
}
# words that may come with the rating without changing it ("do 5 stelle", "voto: 4")
FILLERS = frozenset(
    {"voto", "do", "metto", "direi", "valutazione", "stelle", "stella", "il", "un", "servizio", "grazie"}
)
_OUT_OF_FIVE = re.compile(r"(?:/| su )(?:5|cinque)\b")  # "4/5", "4 su 5", "tre su cinque": the scale
_WORD = re.compile(r"[a-z0-9]+")
STAR = "\u2b50"


def payload(rating: int) -> str:
    """The button payload of a rating (Rasa's intent syntax: the NLU is not asked)."""
    return "/" + INTENT + json.dumps({ENTITY: str(rating)}, separators=(",", ":"))


def parse_rating(text: str | None) -> int | None:
    """1-5 from a short answer, None if it is not clearly one rating. Linear in the text."""
    if not text or len(text) > MAX_RATING_CHARS:
        return None
    stripped = text.replace("\ufe0f", "").strip()
    if stripped and set(stripped) == {STAR}:
        return len(stripped) if len(stripped) <= 5 else None
    words = _WORD.findall(_OUT_OF_FIVE.sub(" ", " " + fold(text) + " "))
    found = [WORDS.get(w) or (int(w) if w in ("1", "2", "3", "4", "5") else None) for w in words]
    ratings = [r for r in found if r is not None]
    others = [w for w, r in zip(words, found, strict=True) if r is None and w not in FILLERS]
    return ratings[0] if len(set(ratings)) == 1 and not others else None


def rating_of(value: object) -> int | None:
    """A rating from an entity or slot value ("4", 4), None if it is not 1-5."""
    try:
        rating = int(str(value).strip())
    except ValueError:
        return None
    return rating if 1 <= rating <= 5 else None
