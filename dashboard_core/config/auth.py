"""Who may log in and what they may do: ``[auth]``, its users, tokens and ``[auth.oidc]``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from dashboard_core.config.base import NAME_PATTERN, _refuse_repeats, _Strict

Role = Literal["viewer", "operator", "admin"]


class UserConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Login name.")
    role: Role = Field("viewer", description="viewer, operator or admin.")
    password_hash: str = Field(
        pattern=r"^\$argon2(id|i|d)\$", description="argon2 hash: python -m dashboard_core hash-password"
    )


class TokenConfig(_Strict):
    name: str = Field(pattern=NAME_PATTERN, description="Who uses it (shown in the audit log).")
    role: Literal["viewer", "operator", "admin", "agent"] = Field(
        "agent", description="agent tokens may only send heartbeats; the others act as that role."
    )
    token_sha256: str = Field(
        pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the token: python -m dashboard_core new-token"
    )
    agent: str | None = Field(
        None, pattern=NAME_PATTERN, description="agent tokens: the only agent name it may send heartbeats for."
    )


class OidcConfig(_Strict):
    """``[auth.oidc]``: people log in with an OpenID Connect provider through Streamlit's
    ``st.login`` machinery; ``roles`` (or ``default_role``) decides what they may do."""

    server_metadata_url: str = Field(
        pattern=r"^https?://", description="The provider's discovery document (.../.well-known/openid-configuration)."
    )
    client_id: str = Field(min_length=1, description="This dashboard's client id at the provider.")
    client_secret: str | None = Field(
        None, min_length=1, description="Its client secret (or client_secret under [oidc] in auth.secrets_file)."
    )
    redirect_uri: str | None = Field(
        None,
        pattern=r"^https?://[^/]+(/.*)?/oauth2callback$",
        description="Where the provider sends people back; default http://<server address>:<port>/oauth2callback.",
    )
    label: str = Field("single sign-on", min_length=1, max_length=60, description="'Log in with <label>'.")
    roles: dict[str, Role] = Field(
        default_factory=dict, description="email, @domain or subject -> viewer, operator or admin."
    )
    default_role: Role | None = Field(None, description="Role of anyone else who signs in; none: they are refused.")
    cookie_secret: str | None = Field(
        None, min_length=32, description="Signs Streamlit's identity cookie; default: derived from data/secret.key."
    )

    @field_validator("roles")
    @classmethod
    def _lower_emails(cls, value: dict[str, str]) -> dict[str, str]:
        """Emails and domains match in any case; subjects exactly as the provider sends them."""
        return {(k.lower() if "@" in k else k): v for k, v in value.items()}


class AuthConfig(_Strict):
    users: list[UserConfig] = Field(default_factory=list, description="People who log in with a password.")
    tokens: list[TokenConfig] = Field(default_factory=list, description="API tokens for agents and scripts.")
    secrets_file: Path | None = Field(
        None, description="A TOML file with [[users]] and [[tokens]] kept out of dashboard.toml (relative to it)."
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 90, description="A login lasts this long.")
    max_failed_logins: int = Field(5, ge=1, le=1000, description="Wrong passwords for one name from one address…")
    max_failed_logins_per_address: int = Field(20, ge=1, le=100_000, description="…or from one address, any names…")
    failed_login_window_seconds: float = Field(
        900.0, gt=0, le=86400, description="…allowed within this many seconds; then it waits as long."
    )
    max_body_bytes: int = Field(1_000_000, ge=1024, le=100_000_000, description="Larger request bodies get 413.")
    oidc: OidcConfig | None = Field(None, description="Log in with an OpenID Connect provider (st.login).")

    @model_validator(mode="after")
    def _unique(self) -> AuthConfig:
        _refuse_repeats("user names", [u.name for u in self.users])
        _refuse_repeats("token names", [t.name for t in self.tokens])
        return self

    @property
    def required(self) -> bool:
        """Whether anyone must log in: users, tokens or OIDC are configured."""
        return bool(self.users or self.tokens or self.oidc)
