"""A caller ID to E.164 (`0470 12 34 56` in BE -> `+32470123456`); internal extensions stay out."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers

# Shorter than this is an internal extension, left as it is.
MIN_EXTERNAL_DIGITS = 7
_SEPARATORS = re.compile(r"[\s\-().\/]")
_DIGITS = re.compile(r"\+?\d+")


# The same few numbers come back call after call, and phonenumbers costs tens of microseconds a parse: the
# function is pure, so it is cached.
@lru_cache(maxsize=8192)
def to_e164(number: str, country: str) -> str | None:
    """`0470 12 34 56` in BE -> `+32470123456`; None for extensions, `<unknown>` and what is not a number."""
    text = _SEPARATORS.sub("", number or "")
    if not _DIGITS.fullmatch(text) or len(text.lstrip("+")) < MIN_EXTERNAL_DIGITS:
        return None
    candidates = [text]
    if text.startswith("00"):
        # The international prefix of most of the world, also where the country's own IDD differs (US 011).
        candidates.append("+" + text[2:])
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(candidate, (country or "").upper() or None)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed) or phonenumbers.is_possible_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None
