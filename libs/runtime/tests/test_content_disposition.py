"""Download names from user input: always an ASCII header that decodes back to the name."""

from __future__ import annotations

from urllib.parse import unquote

from hypothesis import given
from hypothesis import strategies as st

from tangible_runtime.content_disposition import content_disposition


def test_plain_names_read_the_same_in_both_parameters() -> None:
    assert content_disposition("history-acct-1.csv") == (
        "attachment; filename=\"history-acct-1.csv\"; filename*=UTF-8''history-acct-1.csv"
    )


def test_unicode_quotes_and_line_breaks_are_encoded_or_replaced() -> None:
    assert content_disposition('café "x"\r\n.json') == (
        "attachment; filename=\"caf_ _x___.json\"; filename*=UTF-8''caf%C3%A9%20%22x%22%0D%0A.json"
    )


@given(st.text())
def test_any_name_gives_one_ascii_header_whose_extended_value_is_the_name(name: str) -> None:
    header = content_disposition(name)
    assert header.isascii() and all(" " <= c <= "~" for c in header)
    fallback, extended = header.removeprefix("attachment; ").split("; filename*=")
    assert fallback.count('"') == 2 and "\\" not in fallback
    assert unquote(extended.removeprefix("UTF-8''"), encoding="utf-8") == name
