"""API settings, read from ``KGCDS_*`` environment variables when the server starts (never at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class TrustedIssuer(BaseModel):
    """One EHR allowed to call the services: its ``iss``, where its keys may come from.

    Keys come either from ``jwks`` (a JWKS document given in configuration) or from the token's
    ``jku`` header, and then only when that URL is listed in ``jku_allow`` — otherwise an attacker
    could point ``jku`` at a key set of their own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    iss: str = Field(min_length=1)
    jku_allow: tuple[str, ...] = ()
    jwks: dict[str, Any] | None = None

    @field_validator("jwks")
    @classmethod
    def _jwks_has_keys(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and not isinstance(value.get("keys"), list):
            raise ValueError("jwks must be a JWKS document with a 'keys' list")
        return value


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KGCDS_", extra="forbid")

    home: Path = Field(default_factory=lambda: Path.cwd() / ".kgcds")
    feedback_db: Path | None = None
    """SQLite file for card feedback; ``<home>/feedback.sqlite3`` when unset."""
    auth: Literal["enabled", "disabled"] = "enabled"
    """``disabled`` accepts calls without a JWT (development only; a warning is logged at start-up)."""
    trusted_issuers: tuple[TrustedIssuer, ...] = ()
    """JSON list, e.g. ``[{"iss": "https://ehr.example", "jku_allow": ["https://ehr.example/jwks"]}]``."""
    public_base_url: str | None = None
    """Base URL clients use to reach this server (behind a proxy); the JWT ``aud`` is checked against
    ``<public_base_url>/cds-services/<id>``. When unset, the request's own URL is used."""
    clock_skew_seconds: int = Field(default=60, ge=0, le=600)
    max_token_lifetime_seconds: int = Field(default=600, gt=0)
    """CDS Hooks asks for short-lived tokens (exp at most 5 minutes after iat); a little slack for clocks."""
    jwks_cache_seconds: int = Field(default=300, ge=0)
    jti_cache_size: int = Field(default=100_000, gt=0)
    """Capacity of the in-process jti guard (only used when the app is embedded without a replay store)."""
    replay_db: Path | None = None
    """SQLite file remembering each token's (iss, jti) until it expires, shared by all worker processes;
    ``<home>/replay.sqlite3`` when unset."""
    fhir_server_allow: tuple[str, ...] = ()
    """URL prefixes ``fhirServer`` must start with (empty: any). Without it, a caller could make the service
    send requests, with a token, to a URL of its choosing."""
    fhir_timeout_seconds: float = Field(default=5.0, gt=0)
    fhir_max_pages: int = Field(default=10, gt=0)
    """Upper bound on ``next`` links followed when fetching a search result from the FHIR server."""
    rules_reload_seconds: float = Field(default=5.0, gt=0)
    """How often a reloadable engine checks its rule files (an invalid new set never replaces a valid one)."""
    cors_allow_origins: tuple[str, ...] = ("*",)
    """Browser clients such as the CDS Hooks Sandbox call the services cross-origin."""

    @property
    def feedback_db_path(self) -> Path:
        return self.feedback_db if self.feedback_db is not None else self.home / "feedback.sqlite3"

    @property
    def replay_db_path(self) -> Path:
        return self.replay_db if self.replay_db is not None else self.home / "replay.sqlite3"
