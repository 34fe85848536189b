"""Shared mailboxes over IMAP: a pipeline source (``type = "imap"``) read once by ``triage run``
or kept triaged by ``triage watch``.

    config      the [[sources]] section and its secrets (password_env, oauth2 token_env/command)
    client      TLS, login (password or XOAUTH2), reconnect backoff
    checkpoint  per-folder (UIDVALIDITY, last UID) and pending mailbox actions, in the store
    actions     keywords, \\Seen, moves (never delete, never expunge)
    drafts      acknowledgement drafts for new complaints (off by default, never sent)
    watcher     backlog in batches, IDLE or polling, stop signals
    progress    a bar on a terminal, periodic lines in logs
"""

from triage.ingest.imap.config import ImapSource

__all__ = ["ImapSource"]
