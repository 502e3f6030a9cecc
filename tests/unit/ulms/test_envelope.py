"""The envelope codec (contract.md upstream §1.5): exact outgoing properties, lenient reading."""

from __future__ import annotations

import json
import re
from uuid import NAMESPACE_URL, uuid5

import pytest
import structlog

from minigroups.adapters.ulms import MalformedEnvelope
from minigroups.adapters.ulms import envelope as codec
from minigroups.adapters.ulms.tracking import Tracking, tracking_label
from tests.support.simulators.wire import response


def test_a_request_has_exactly_the_reference_properties_and_a_json_text_payload() -> None:
    message = codec.request(
        method="room.read",
        body={"id": "6a2b", "n": [1, None], "ü": True},
        correlation_data="q8ZkP0aLr3VnB1xE",
        response_topic="agents/a.b.c/api/v1/in/event.c",
        timestamp="1690000000123",
    )
    wire = json.loads(message.encode())
    assert wire == {
        "payload": '{"id":"6a2b","n":[1,null],"ü":true}',
        "properties": {
            "type": "request",
            "method": "room.read",
            "correlation_data": "q8ZkP0aLr3VnB1xE",
            "response_topic": "agents/a.b.c/api/v1/in/event.c",
            "timestamp": "1690000000123",
        },
    }
    assert list(wire) == ["payload", "properties"]


def test_an_event_has_exactly_type_label_and_timestamp() -> None:
    message = codec.event(label="minigroup.stop", body={"id": "x"}, timestamp="1")
    assert json.loads(message.encode()) == {
        "payload": '{"id":"x"}',
        "properties": {"type": "event", "label": "minigroup.stop", "timestamp": "1"},
    }


def test_a_response_round_trips_and_its_status_is_read() -> None:
    message = response(status=201, correlation_data="c" * 16, body=[1], timestamp="5")
    read = codec.decode(message.encode())
    assert read == message
    assert (read.type, codec.status_of(read), read.body()) == ("response", 201, [1])


def test_reading_is_lenient_about_properties() -> None:
    raw = json.dumps(
        {
            "payload": "{}",
            "properties": {
                "type": "response",
                "status": 200,
                "correlation_data": "abc",
                "processing_time": 1.5,
                "retained": False,
                "tracking": {"nested": 1},
                "session_tracking_label": None,
            },
            "extra": "ignored",
        }
    ).encode()
    read = codec.decode(raw)
    assert read.properties == {
        "type": "response",
        "status": "200",
        "correlation_data": "abc",
        "processing_time": "1.5",
        "retained": "false",
    }
    assert codec.decode(b'{"payload": "[]"}').properties == {}


@pytest.mark.parametrize(
    "raw", [b"not json", b"[]", b'{"properties": {}}', b'{"payload": {"not": "text"}}']
)
def test_anything_else_is_not_an_envelope(raw: bytes) -> None:
    with pytest.raises(MalformedEnvelope):
        codec.decode(raw)


def test_a_payload_that_is_not_json_or_a_missing_status_is_malformed() -> None:
    read = codec.decode(b'{"payload": "{oops", "properties": {"status": "2xx"}}')
    with pytest.raises(MalformedEnvelope):
        read.body()
    with pytest.raises(MalformedEnvelope):
        codec.status_of(read)
    with pytest.raises(MalformedEnvelope):
        codec.status_of(codec.decode(b'{"payload": "{}"}'))


def test_correlation_data_is_16_random_alphanumerics() -> None:
    values = {codec.new_correlation_data() for _ in range(1000)}
    assert len(values) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9]{16}", value) for value in values)
    assert set("".join(values)) == set(codec.CORRELATION_ALPHABET)  # all 62 characters occur


def test_timestamps_are_unix_milliseconds_as_text() -> None:
    assert codec.unix_ms(1690000000.1234) == "1690000000123"


def test_tracking_properties_only_while_a_request_is_served() -> None:
    """Outside an HTTP request (the pipeline's own requests) no tracking is sent (issue 11)."""
    tracking = Tracking()
    assert tracking.properties() == {}
    with structlog.contextvars.bound_contextvars(request_id="abc"):
        properties = tracking.properties()
    assert properties == {
        "tracking_id": f"{uuid5(NAMESPACE_URL, 'abc')}.{tracking.session}",
        "session_tracking_label": tracking.session,
    }
    message = codec.request(
        method="room.read",
        body={},
        correlation_data="c" * 16,
        response_topic="t",
        timestamp="1",
        tracking=properties,
    )
    assert message.properties["tracking_id"] == properties["tracking_id"]


def test_the_tracking_label_keeps_a_canonical_uuid() -> None:
    same = "3f1e2d4c-5b6a-4789-9abc-def012345678"
    assert tracking_label(same) == same
    upper = same.upper()  # a UUID, but not as we write it: mapped, so that the label is stable
    assert tracking_label(upper) == str(uuid5(NAMESPACE_URL, upper))
