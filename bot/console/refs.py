"""What the console shows for a conversation id, and back.

Conversation ids are opaque ("wa:<hmac>", "web:...", a REST client's id), except the phone
numbers that WhatsApp conversations had as id before: an id in which masking finds personal
data is never shown, put in a URL or exported. It gets a random reference instead ("ref-..."),
stored in the support database so that every worker resolves it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.masking import mask_text
from bot.support.models import ConversationRef

PREFIX = "ref-"


# The channels' own ids are opaque by construction (an HMAC for WhatsApp, a random token for the
# widget: docs/security.md); their hex digits can look like a phone number to the masker.
OPAQUE_PREFIXES = ("wa:", "web:")


def is_personal(conversation_id: str) -> bool:
    if conversation_id.startswith(OPAQUE_PREFIXES):
        return False
    return mask_text(conversation_id) != conversation_id or conversation_id.startswith(PREFIX)


class ConversationRefs:
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions
        self._known: dict[str, str] = {}  # id -> ref; a ref never changes once stored

    def shown(self, conversation_id: str) -> str:
        """The id as the console may show it."""
        if not is_personal(conversation_id):
            return conversation_id
        if conversation_id in self._known:
            return self._known[conversation_id]
        with self.sessions() as session:
            ref = session.execute(
                select(ConversationRef.ref).where(ConversationRef.conversation_id == conversation_id)
            ).scalar_one_or_none()
        if ref is None:
            try:
                with self.sessions() as session, session.begin():
                    ref = PREFIX + secrets.token_urlsafe(12)
                    session.add(ConversationRef(ref=ref, conversation_id=conversation_id))
            except IntegrityError:  # another worker stored one first
                with self.sessions() as session:
                    ref = session.execute(
                        select(ConversationRef.ref).where(ConversationRef.conversation_id == conversation_id)
                    ).scalar_one()
        self._known[conversation_id] = ref
        return ref

    def resolve(self, shown: str) -> str:
        """The conversation id behind what the console showed (a reference or the id itself)."""
        if not shown.startswith(PREFIX):
            return shown
        with self.sessions() as session:
            found = session.execute(
                select(ConversationRef.conversation_id).where(ConversationRef.ref == shown)
            ).scalar_one_or_none()
        return found if found is not None else shown
