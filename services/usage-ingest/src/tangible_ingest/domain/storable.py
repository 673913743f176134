"""Door rules beyond the CloudEvents shape: what every consumer of usage can apply. Pure Python.

A 202 promises that entitlements and rewards will apply the event. Each rule below closes
a gap where an accepted event made a consumer (or PostgreSQL under it) *fail*, retry and
dead-letter it as `handler_failed`, instead of counting it or deliberately skipping it:

- U+0000 anywhere (envelope strings, `data` keys and values at any depth): PostgreSQL text
  and jsonb cannot hold it, and consumers write account ids, user ids, unique values and
  the record's headers (dead letters, outbox rows) into such columns.
- `data` nested deeper than `MAX_DATA_DEPTH`: consumers parse the record with pydantic,
  whose JSON parser gives up at 200 levels for the whole record (`data` sits two levels
  down, under the record and `properties`); 128 leaves a margin.
- `time` before `EARLIEST_TIME`: consumers place an event in its day, week, month… in the
  account's time zone, and that calendar arithmetic overflows Python's dates near year 1.

Lone surrogates and invalid UTF-8 never get this far: the JSON parser refuses them (400).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MAX_DATA_DEPTH = 128
EARLIEST_TIME = datetime(1970, 1, 1, tzinfo=UTC)
NUL = "\x00"
# how orjson writes U+0000 in a string; a literal backslash-u0000 is written with one more
# backslash, which also contains these bytes, so a hit is only a hint (see `nul_field`)
ESCAPED_NUL = b"\\u0000"


def nul_field(item: dict[str, Any]) -> str | None:
    """The dotted path of the first member name or string holding U+0000, or None."""
    stack: list[tuple[str, Any]] = [("", item)]
    while stack:
        path, value = stack.pop()
        if type(value) is str:
            if NUL in value:
                return path or None
        elif type(value) is dict:
            for name, member in value.items():
                member_path = f"{path}.{name}" if path else name
                if NUL in name:
                    return member_path.replace(NUL, "\\u0000")
                stack.append((member_path, member))
        elif type(value) is list:
            stack.extend((f"{path}[{i}]", member) for i, member in enumerate(value))
    return None


def nests_deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels (`value` itself is level 1)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if type(current) is dict:
            members: Any = current.values()
        elif type(current) is list:
            members = current
        else:
            continue
        if depth > limit:
            return True
        stack.extend((member, depth + 1) for member in members)
    return False
