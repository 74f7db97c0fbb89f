"""Names as the API spells them: field paths of errors and events are camelCase."""

from __future__ import annotations

import re

# A record's code (customer, warehouse): letters, digits, '.', '_' or '-', no leading symbol.
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def camel(name: str) -> str:
    """``payment_terms_days`` -> ``paymentTermsDays``."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
