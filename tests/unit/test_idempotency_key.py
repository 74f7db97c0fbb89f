"""The Idempotency-Key header's grammar: an sf-string (or a bare token) of 1..255 printable ASCII."""

from __future__ import annotations

import pytest

from api.idempotency import MalformedKey, parse_key


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (b'"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        (b'  "order 42"\t', "order 42"),  # spaces inside the quotes are the key's; around it, OWS
        (b'"say \\"hi\\" \\\\ bye"', 'say "hi" \\ bye'),  # the two escapes RFC 8941 allows
        (b"bare-token_1:2/3", "bare-token_1:2/3"),
        (b'"' + b"k" * 255 + b'"', "k" * 255),
        (b"k" * 255, "k" * 255),
    ],
)
def test_well_formed_keys(header: bytes, key: str) -> None:
    assert parse_key([header]) == key


@pytest.mark.parametrize(
    "headers",
    [
        [b'""'],  # empty
        [b""],
        [b'"' + b"k" * 256 + b'"'],  # too long
        [b"k" * 256],
        [b'"unterminated'],
        [b'"a" extra'],  # something after the string
        [b'"a\\nb"'],  # an escape RFC 8941 does not know
        [b'"caf\xc3\xa9"'],  # not ASCII
        [b'"tab\there"'],  # a control character
        [b'bare"quote'],
        [b'"one"', b'"two"'],  # two header lines
    ],
)
def test_malformed_keys(headers: list[bytes]) -> None:
    with pytest.raises(MalformedKey):
        parse_key(headers)
