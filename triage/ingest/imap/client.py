"""Connecting to the IMAP server (TLS, login by password or XOAUTH2) and backing off between
reconnects. Everything that talks to the server goes through ``imapclient``."""

from __future__ import annotations

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, LoginError

from triage.errors import ImapError
from triage.ingest.imap.config import ImapSource, read_password, read_token

log = logging.getLogger("triage.imap")

# What a dropped connection or a restarting server looks like from the client side.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    IMAPClientAbortError,
    imaplib.IMAP4.abort,
    OSError,  # includes ConnectionError, socket.timeout and ssl.SSLError
    EOFError,
)


def tls_context(source: ImapSource) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=source.ca_file) if source.ca_file else ssl.create_default_context()


def connect(source: ImapSource) -> IMAPClient:
    """A logged-in client. Login refusals are ImapError (not retried); network trouble is
    raised as is, for the caller's reconnect loop."""
    where = f"{source.host}:{source.server_port}"
    context = tls_context(source) if source.tls != "none" else None
    client = IMAPClient(
        source.host,
        port=source.server_port,
        ssl=source.tls == "implicit",
        ssl_context=context,
        timeout=source.timeout_seconds,
    )
    try:
        if source.tls == "starttls":
            if not client.has_capability("STARTTLS"):
                raise ImapError(f"{where} does not offer STARTTLS. Use tls = 'implicit' (usually port 993) instead.")
            client.starttls(context)
        if source.oauth2 is not None:
            client.oauth2_login(source.username, read_token(source.oauth2, source.describe()))
        else:
            client.login(source.username, read_password(source))
    except LoginError as exc:
        _close(client)
        how = "oauth2 token" if source.oauth2 else f"password in ${source.password_env}"
        raise ImapError(f"{where} refused the login for {source.username!r} ({exc}). Check the username and the {how}.") from None
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: IMAPClient) -> None:
    with contextlib.suppress(OSError, imaplib.IMAP4.error):
        client.shutdown()


def logout(client: IMAPClient) -> None:
    try:
        client.logout()
    except (*CONNECTION_ERRORS, imaplib.IMAP4.error):
        _close(client)


@dataclass
class Backoff:
    """Capped exponential backoff: first, 2*first, 4*first ... at most ``cap`` seconds."""

    first: float = 1.0
    cap: float = 60.0
    attempt: int = 0

    def next_delay(self) -> float:
        delay = min(self.cap, self.first * 2**self.attempt)
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0
