"""Unit tests of authentication, authorization, keys and tokens."""
