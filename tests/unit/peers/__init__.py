"""Tests of the peer clients (event, conference, tq) and of the sandbox peers."""
