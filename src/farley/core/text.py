"""Text helpers shared by search and duplicate checks."""

from __future__ import annotations

import re
import unicodedata

_SPECIAL = str.maketrans({"ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "œ": "oe"})


def fold(text: str) -> str:
    """Lower-case, strip accents: "Müller Øster" -> "muller oster" (CJK and emoji are kept)."""
    text = unicodedata.normalize("NFKD", text.casefold().translate(_SPECIAL))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def looks_like_phone(text: str) -> bool:
    return bool(re.fullmatch(r"[+(\d][\d\s/().\-]{4,}", text.strip())) and len(digits(text)) >= 5
