"""The ``[[sources]] type = "imap"`` section of a pipeline file, and reading its secrets.

Secrets never live in the pipeline file: it names the environment variable that holds the
password, or the environment variable / command that gives an OAuth2 access token (so token
refresh stays outside triage).
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from triage.errors import ConfigError

_STRICT = ConfigDict(extra="forbid", frozen=True)
SECRET_KEYS = ("password", "passwd", "secret", "token", "access_token")
SECRET_ERROR = "secret_in_pipeline"  # describe_validation never echoes the input of this error


def refuse_secrets(data: Any, hint: str) -> Any:
    if isinstance(data, dict):
        for key in SECRET_KEYS:
            if key in data:
                raise PydanticCustomError(
                    SECRET_ERROR,
                    "{key!r} is a secret and is never accepted in a pipeline file (it would be committed with it): {hint}",
                    {"key": key, "hint": hint},
                )
    return data


class OAuth2(BaseModel):
    """XOAUTH2 login (Microsoft 365, Google): the access token comes from outside triage."""

    model_config = _STRICT
    token_env: str | None = Field(None, description="Environment variable holding a current access token.")
    token_command: list[str] | None = Field(
        None, min_length=1, description="Command (argv list, no shell) that prints a current access token."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_token(cls, data: Any) -> Any:
        return refuse_secrets(data, 'set token_env = "NAME" (an environment variable) or token_command = ["cmd", "arg"].')

    @model_validator(mode="after")
    def _one_way(self) -> OAuth2:
        if (self.token_env is None) == (self.token_command is None):
            raise ValueError("give exactly one of token_env or token_command")
        return self


class OnStored(BaseModel):
    """What to do in the mailbox once a message is safely in the store."""

    model_config = _STRICT
    keywords: bool = Field(
        True, description="Add IMAP keywords from the classification: triage:<kind>, triage:<queue>, triage:needs-review."
    )
    move_to: str | None = Field(
        None,
        description="Move to a per-queue folder, e.g. 'Triage/{queue}' ('/' separates levels). Off when unset.",
    )
    mark_seen: bool = Field(False, description="Set \\Seen on stored messages (off: triage leaves them unread).")


class Drafts(BaseModel):
    """Acknowledgement drafts for new complaints: written to a Drafts folder, never sent."""

    model_config = _STRICT
    enabled: bool = False
    folder: str = "Drafts"
    from_address: str | None = Field(None, description="From: of the draft; default the mailbox username.")
    signature: str = "Customer Services"


class ImapSource(BaseModel):
    """A mailbox on an IMAP server, kept triaged by ``triage watch`` (or read once by ``triage run``)."""

    model_config = _STRICT
    type: Literal["imap"]
    name: str | None = Field(None, description="Label for this mailbox in the store; default username@host.")
    host: str
    port: int | None = Field(None, ge=1, le=65535, description="Default 993 for implicit TLS, else 143.")
    tls: Literal["implicit", "starttls", "none"] = "implicit"
    ca_file: str | None = Field(None, description="CA certificate file to trust (a private CA or a self-signed server).")
    username: str
    password_env: str | None = Field(None, description="Environment variable holding the password.")
    oauth2: OAuth2 | None = None
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1)
    channel: Literal["email", "webform", "social"] = "email"
    batch_size: int = Field(200, ge=1, le=5000, description="Messages fetched per IMAP command and stored per transaction.")
    idle: bool = Field(True, description="Wait for new mail with IDLE when the server supports it (else poll).")
    poll_seconds: float = Field(60, gt=0, description="Polling interval; also how often IDLE is renewed.")
    quarantine_folder: str | None = Field(None, description="Move messages that cannot be parsed here (kept in the store too).")
    on_stored: OnStored = Field(default_factory=OnStored)
    drafts: Drafts = Field(default_factory=Drafts)
    timeout_seconds: float = Field(60, gt=0, description="Network timeout for one IMAP command.")
    backoff_seconds: float = Field(1, gt=0, description="First reconnect delay; doubled on each failure.")
    backoff_max_seconds: float = Field(60, gt=0, description="Longest reconnect delay.")
    run_retries: int = Field(5, ge=0, description="Reconnect attempts before `triage run` gives up (watch never does).")

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        return refuse_secrets(data, 'set password_env = "NAME" and put the password in that environment variable.')

    @model_validator(mode="after")
    def _check(self) -> ImapSource:
        if (self.password_env is None) == (self.oauth2 is None):
            raise ValueError("give exactly one of password_env or [sources.oauth2]")
        if self.tls == "none" and not is_loopback(self.host):
            raise ValueError(
                f"tls = 'none' sends the password in clear: it is allowed only for a server on this machine, not {self.host!r}"
            )
        return self

    @property
    def mailbox(self) -> str:
        return self.name or f"{self.username}@{self.host}"

    @property
    def server_port(self) -> int:
        return self.port or (993 if self.tls == "implicit" else 143)

    def describe(self) -> str:
        return f"imap://{self.mailbox}"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_password(source: ImapSource) -> str:
    assert source.password_env is not None
    value = os.environ.get(source.password_env)
    if not value:
        raise ConfigError(
            f"{source.describe()}: the environment variable {source.password_env} (password_env) is not set. "
            f"Export it with the mailbox password before running triage."
        )
    return value


def read_token(oauth2: OAuth2, where: str) -> str:
    """The current OAuth2 access token, from the environment or from the user's command."""
    if oauth2.token_env is not None:
        value = os.environ.get(oauth2.token_env, "").strip()
        if not value:
            raise ConfigError(
                f"{where}: the environment variable {oauth2.token_env} (oauth2.token_env) is not set. "
                "Export a current access token in it (your token helper refreshes it)."
            )
        return value
    assert oauth2.token_command is not None
    try:
        done = subprocess.run(oauth2.token_command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(
            f"{where}: the oauth2.token_command {oauth2.token_command[0]!r} could not run ({exc}). Check the command."
        ) from exc
    token = done.stdout.strip()
    if done.returncode != 0 or not token:
        raise ConfigError(
            f"{where}: the oauth2.token_command {oauth2.token_command[0]!r} exited with {done.returncode} and "
            f"{'no token' if not token else 'an error'} ({done.stderr.strip()[:200]}). Run it yourself to see why."
        )
    return token
