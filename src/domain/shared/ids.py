"""Global ids: the opaque ``base64("Type:pk")`` every object of the graph is known by.

They live here, below the API, because ids also leave through other doors: webhook
payloads name orders and jobs by the same id a partner passes back to ``node``.
"""

from __future__ import annotations

import base64
import binascii


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """``(type name, primary key)``, or None when the id is not one of ours."""
    try:
        type_name, _, raw = base64.urlsafe_b64decode(global_id.encode()).decode().partition(":")
        pk = int(raw)
    except (binascii.Error, UnicodeError, ValueError):
        return None
    if not type_name or pk <= 0 or pk >= 2**63:
        return None
    return type_name, pk
