"""Accent folding: the one way customer text and place names are compared.

Customers write "lunedi" for "lunedì", "perche" for "perché", "L'AQUILA" for "L'Aquila"; the
parsers (bot/dates.py, actions/bills.py), the stores search (bot/billing) and the NLU data
checks (bot/ops/nlu_files.py) all compare the folded form.
"""

from __future__ import annotations

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents: "Lunedì" -> "lunedi", "PERCHÉ" -> "perche".

    NFKD splits an accented letter into the letter and its combining mark, which is dropped;
    compatibility forms fold too ("ﬁ" -> "fi", "²" -> "2"). Linear in the length.
    """
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold_alnum(text: str) -> str:
    """Folded, letters and digits only: "L'Aquila" = "laquila", "Reggio nell'Emilia" =
    "reggionellemilia" (place names as customers and the stores table spell them)."""
    return "".join(c for c in fold(text) if c.isalnum())
