"""Marking messages for translation where they are defined, not where they are shown."""


def N_(message: str) -> str:
    """Mark a message for extraction; it is translated where it is shown."""
    return message
