"""Caller data that would break out of a URL path segment or an MQTT topic level (issue 8)."""

from __future__ import annotations

# Each one must stay exactly one path segment / topic level wherever the service places it.
HOSTILE = [
    "a/b",
    "..",
    ".",
    "../..",
    "x/../../../usr.victim/tasks/transcode-minigroup-to-hls-lesson-1/classrooms/"
    "6a2b1c3d-0000-4000-8000-000000000001?",
    "lesson?x=1",
    "lesson#frag",
    "100%",
    "%2F%2E%2E",
    "lesson 42",
    "tab\there",
    "line\nfeed",
    "carriage\rreturn",
    "урок-1",
    "😀",
    "+",
    "#",
    "a/+/#",
    "\\..\\",
    ";jsessionid=1",
    "\x00\x7f",
]
