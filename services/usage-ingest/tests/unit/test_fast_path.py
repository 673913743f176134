"""The pydantic-free fast path never accepts what `CloudEventIn` rejects, nor reads other values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tangible_ingest.entrypoints.schemas import _RFC3339, CloudEventIn, EventFields, fast_fields, model_fields

strings = st.one_of(
    st.text(max_size=4),
    st.text(min_size=255, max_size=258),
    st.text(min_size=1020, max_size=1026),
    st.integers(),
    st.none(),
    st.booleans(),
    st.floats(),
)
times = st.one_of(
    st.none(),
    st.from_regex(_RFC3339, fullmatch=True),
    st.datetimes(timezones=st.timezones()).map(datetime.isoformat),
    st.datetimes().map(datetime.isoformat),
    st.text(max_size=30),
    st.integers(),
)
quantities = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**64),
    st.floats(),
    st.sampled_from([0, 1e15, 1e15 + 1, -0.0, float("nan"), float("inf")]),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
data = st.one_of(
    st.none(),
    st.lists(st.integers(), max_size=2),
    st.fixed_dictionaries(
        {},
        optional={
            "quantity": quantities,
            "user_id": strings,
            "format": st.text(max_size=3),
            "nested": st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
        },
    ),
)
wild = {
    "specversion": st.sampled_from(["1.0", "0.3", 1.0, None, "1.0 "]),
    "id": strings,
    "source": strings,
    "type": strings,
    "subject": strings,
    "time": times,
    "data": data,
    "datacontenttype": st.sampled_from([None, "application/json", "text/plain", 1]),
    "dataschema": st.one_of(st.none(), st.text(max_size=3), st.integers()),
    "traceparent": st.text(max_size=5),
    "Bad-Name": st.integers(),
    "abc\n": st.integers(),
    "waytoolongextensionname123": st.integers(),
}


def valid_events(times: st.SearchStrategy[str], text: int = 8) -> st.SearchStrategy[dict[str, Any]]:
    """Events the model accepts when `times` yields valid times (and names are short)."""
    return st.fixed_dictionaries(
        {
            "specversion": st.just("1.0"),
            "id": st.text(min_size=1, max_size=min(text, 256)),
            "source": st.text(min_size=1, max_size=min(text, 1024)),
            "type": st.text(min_size=1, max_size=min(text, 256)),
            "subject": st.text(min_size=1, max_size=min(text, 256)),
        },
        optional={
            "time": times,
            "data": st.fixed_dictionaries(
                {},
                optional={
                    "quantity": st.floats(0, 1e15) | st.integers(0, 10**15),
                    "user_id": st.text(min_size=1, max_size=256),
                },
            ),
            "traceparent": st.text(max_size=5),
        },
    )


valid = valid_events(st.from_regex(_RFC3339, fullmatch=True))


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    """A valid event with a few attributes removed or replaced by wild values."""
    item = dict(draw(valid))
    for name in draw(st.lists(st.sampled_from(sorted(wild)), max_size=3, unique=True)):
        if draw(st.booleans()):
            item.pop(name, None)
        else:
            item[name] = draw(wild[name])
    return item


def by_model(item: dict[str, Any]) -> EventFields | None:
    try:
        return model_fields(CloudEventIn.model_validate(item))
    except ValidationError:
        return None


def same_time(a: datetime | None, b: datetime | None) -> bool:
    if a is None or b is None:
        return a is b
    return a == b and a.utcoffset() == b.utcoffset()


@settings(max_examples=1000)
@given(items())
def test_the_fast_path_accepts_only_what_the_model_accepts_with_the_same_values(item: dict[str, Any]) -> None:
    fast = fast_fields(item)
    if fast is None:
        return  # the model decides; nothing to compare
    model = by_model(item)
    assert model is not None, item
    assert fast[:4] == model[:4]
    assert same_time(fast[4], model[4])
    assert type(fast[5]) is float and type(model[5]) is float and fast[5] == model[5]
    assert fast[6:] == model[6:]


@given(valid_events(st.datetimes(timezones=st.timezones()).map(datetime.isoformat), text=1024))
def test_ordinary_valid_events_take_the_fast_path(item: dict[str, Any]) -> None:
    assert fast_fields(item) is not None or by_model(item) is None, item
