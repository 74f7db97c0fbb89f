"""Names as the API spells them: field paths of errors and events are camelCase."""

from __future__ import annotations


def camel(name: str) -> str:
    """``payment_terms_days`` -> ``paymentTermsDays``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
