"""Tables of the support database (SQLAlchemy 1.4 used in 2.0 style)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class WhatsAppDelivery(Base):
    """A WhatsApp message id seen once: Meta redelivers on timeouts, and a redelivery, even
    after a restart or on another replica, must not be processed again."""

    __tablename__ = "whatsapp_deliveries"

    message_id = Column(String(128), primary_key=True)
    received_at = Column(DateTime, nullable=False)


class WhatsAppContact(Base):
    """Per WhatsApp user: when they last wrote (the 24-hour customer-service window) and the
    options last offered as a numbered text list (so that a reply "2" picks the second)."""

    __tablename__ = "whatsapp_contacts"

    wa_id = Column(String(32), primary_key=True)
    last_inbound_at = Column(DateTime, nullable=True)
    numbered_options = Column(JSON, nullable=True)
