"""Shared mailboxes over IMAP: a pipeline source (``type = "imap"``) read once by ``triage run``
or kept triaged by ``triage watch``.

    config      the [[sources]] section and its secrets (password_env, oauth2 token_env/command)
    client      TLS, login (password or XOAUTH2), reconnect backoff
    checkpoint  per-folder (UIDVALIDITY, last UID) and pending mailbox actions, in the store
    lease       one reader per folder however many watchers run
    progress    a bar on a terminal, periodic lines in logs

This package only reads. The job that keeps a mailbox triaged (batches, IDLE or polling, stop
signals) is ``triage/watcher.py``; what it does back to the mailbox (keywords, moves, drafts)
is ``triage/writeback/``.
"""

from triage.ingest.imap.config import ImapSource

__all__ = ["ImapSource"]
