def contains(text: str) -> str:
    """An ILIKE pattern matching ``text`` literally anywhere (wildcards escaped)."""
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
