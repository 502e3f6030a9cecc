"""Fixtures shared by every test package."""

from __future__ import annotations

from tests.support.databases import database_url, postgres_template, postgres_url, sqlite_url

__all__ = ["database_url", "postgres_template", "postgres_url", "sqlite_url"]
