"""Which conversation ids the console replaces by a reference: the ones that hold personal data
(an old WhatsApp id that was the phone number), never the channels' opaque ids."""

from __future__ import annotations

from bot.console.refs import is_personal


def test_a_phone_number_id_is_personal():
    assert is_personal("393331234567")


def test_the_channels_opaque_ids_are_shown_as_they_are_even_when_their_hex_looks_like_a_number():
    # a random or HMAC hex id can hold a run of digits the masker would take for a phone number
    assert not is_personal("web:3933312345678901aabbccddeeff0011")
    assert not is_personal("wa:00881234567890123456789012345678")
    assert not is_personal("prova-rest-1")
