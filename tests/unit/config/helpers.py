"""Config texts and loading shortcuts shared by the configuration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from minigroups.config import ConfigError, LoadedSettings, load_settings

CONFIG_FILES = Path(__file__).parent / "files"
# Every key of the reference's App.toml format (docs/contract.md, upstream §9).
REFERENCE_APP = Path(__file__).parents[2] / "fixtures" / "reference-app.toml"
MINIMAL = (CONFIG_FILES / "minimal.toml").read_text(encoding="utf-8")
DATABASE_URL = "postgresql://minigroups:secret@db.example.org/minigroups"
SAMPLE_ENV = {"DATABASE_URL": DATABASE_URL}


def write_config(directory: Path, text: str) -> Path:
    path = directory / "App.toml"
    path.write_text(text, encoding="utf-8")
    return path


def with_section(section: str, lines: str, text: str = MINIMAL) -> str:
    """`text` with `lines` added at the start of `[section]` (appended as a new table if absent)."""
    header = f"[{section}]\n"
    if header in text:
        return text.replace(header, header + lines + "\n", 1)
    return text + "\n" + header + lines + "\n"


def load_text(directory: Path, text: str, environ: dict[str, str] | None = None) -> LoadedSettings:
    return load_settings(write_config(directory, text), environ or {})


def load_error(directory: Path, text: str, environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as caught:
        load_text(directory, text, environ)
    return str(caught.value)
