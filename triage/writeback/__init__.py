"""What triage does back to a mailbox once a message is stored and classified: keywords,
``\\Seen``, moves to per-queue folders and acknowledgement drafts. A stage of its own beside
``route/``, called by the mailbox job (``triage/watcher.py``); ``ingest/`` only reads.

    actions     keywords, \\Seen, moves (never delete, never expunge)
    drafts      acknowledgement drafts for new complaints (off by default, never sent)
"""
