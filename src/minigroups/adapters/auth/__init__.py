"""Authentication (bearer tokens), authorization (authz backends), and their keys and tokens."""

from minigroups.adapters.auth.authn import Authenticator
from minigroups.adapters.auth.authz import build_authorizer
from minigroups.adapters.auth.keys import (
    AuthConfigError,
    JoseKey,
    KeyFileError,
    load_signing_key,
    load_verifying_key,
)
from minigroups.adapters.auth.tokens import mint_id_token, mint_token

__all__ = [
    "AuthConfigError",
    "Authenticator",
    "JoseKey",
    "KeyFileError",
    "build_authorizer",
    "load_signing_key",
    "load_verifying_key",
    "mint_id_token",
    "mint_token",
]
