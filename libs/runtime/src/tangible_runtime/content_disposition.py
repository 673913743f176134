"""`Content-Disposition` for downloads named after user input (RFC 6266 with RFC 5987 values).

HTTP header values travel as latin-1 at best (Starlette encodes them so) and a name taken
from a path parameter can hold any Unicode character, a quote or a line break. So the real
name goes in `filename*` as percent-encoded UTF-8, which every current browser prefers, and
`filename` carries an ASCII fallback where every character outside a safe set is `_`: the
header is always plain ASCII, whatever the input, and cannot be split or quoted out of.
"""

from __future__ import annotations

import string
from typing import Literal
from urllib.parse import quote

# RFC 5987 attr-char minus nothing: what may stand unencoded in `filename*`.
_ATTR_CHARS = string.ascii_letters + string.digits + "!#$&+-.^_`|~"
# What may stand in the quoted fallback: printable ASCII without `"` and `\` (no escapes
# needed) and without `%` (some agents percent-decode the fallback, RFC 6266 appendix D).
_FALLBACK_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - set('"\\%')


def ascii_fallback(filename: str) -> str:
    return "".join(c if c in _FALLBACK_CHARS else "_" for c in filename)


def content_disposition(filename: str, kind: Literal["attachment", "inline"] = "attachment") -> str:
    """`attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded>`."""
    encoded = quote(filename, safe=_ATTR_CHARS, encoding="utf-8")
    return f"{kind}; filename=\"{ascii_fallback(filename)}\"; filename*=UTF-8''{encoded}"
