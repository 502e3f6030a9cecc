"""Configuration: the `Settings` shape, App.toml loading, `APP_*` and `DATABASE_URL` overrides.

Modules by concern: `settings` (the structs), `loader` (files and the embedded default,
`default.toml`), `environment` (variables), `schema` (readable msgspec errors), `checks` (what
the types cannot say), `errors`. Importing this package costs msgspec and tomllib, nothing more.
"""

from minigroups.config.errors import ConfigError
from minigroups.config.loader import (
    DATA_DIR_VARIABLE,
    DEV_AUDIENCE,
    DEV_ISSUER,
    LoadedSettings,
    default_data_dir,
    embedded_settings,
    load_settings,
)
from minigroups.config.settings import (
    RATE_LIMIT_QUOTAS,
    Algorithm,
    AudienceSettings,
    AuthnIssuerSettings,
    AuthzHttpSettings,
    AuthzLocalSettings,
    AuthzLocalWhitelistSettings,
    AuthzNoneSettings,
    AuthzRecordSettings,
    AuthzSettings,
    ConsoleSettings,
    HttpSettings,
    IdTokenSettings,
    LogSettings,
    MqttSettings,
    PeerClientSettings,
    PipelineSettings,
    RateLimitsSettings,
    Settings,
    StorageSettings,
    TqClientSettings,
    WebhooksSettings,
)

__all__ = [
    "DATA_DIR_VARIABLE",
    "DEV_AUDIENCE",
    "DEV_ISSUER",
    "RATE_LIMIT_QUOTAS",
    "Algorithm",
    "AudienceSettings",
    "AuthnIssuerSettings",
    "AuthzHttpSettings",
    "AuthzLocalSettings",
    "AuthzLocalWhitelistSettings",
    "AuthzNoneSettings",
    "AuthzRecordSettings",
    "AuthzSettings",
    "ConfigError",
    "ConsoleSettings",
    "HttpSettings",
    "IdTokenSettings",
    "LoadedSettings",
    "LogSettings",
    "MqttSettings",
    "PeerClientSettings",
    "PipelineSettings",
    "RateLimitsSettings",
    "Settings",
    "StorageSettings",
    "TqClientSettings",
    "WebhooksSettings",
    "default_data_dir",
    "embedded_settings",
    "load_settings",
]
