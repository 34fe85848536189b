"""Finding mail in files and folders: .eml, .mbox, Maildir, .msg, recursive walks."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from conftest import make_email

from triage.errors import InputError
from triage.ingest.files import iter_paths, read_file
from triage.jobs import mail_items
from triage.message import Message, Quarantined


def test_folder_is_walked_recursively_in_order_skipping_dotfiles(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.eml").write_bytes(make_email(message_id="<2@x>"))
    (tmp_path / "1.eml").write_bytes(make_email(message_id="<1@x>"))
    (tmp_path / ".DS_Store").write_bytes(b"\x00\x01")
    items = list(mail_items([tmp_path]))
    assert [i.message_id for i in items if isinstance(i, Message)] == ["<1@x>", "<2@x>"]


def test_mbox_yields_each_message_with_its_index(tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "export.mbox")
    for n in range(3):
        box.add(make_email(subject=f"message {n}", message_id=f"<{n}@x>"))
    box.close()
    items = list(read_file(tmp_path / "export.mbox"))
    assert [i.subject for i in items] == ["message 0", "message 1", "message 2"]
    assert [i.source.index for i in items] == [0, 1, 2]


def test_maildir_cur_and_new_are_read_and_tmp_is_not(tmp_path: Path) -> None:
    md = mailbox.Maildir(tmp_path / "Maildir")
    md.add(mailbox.MaildirMessage(make_email(message_id="<new@x>")))
    cur = mailbox.MaildirMessage(make_email(message_id="<cur@x>"))
    cur.set_subdir("cur")
    md.add(cur)
    (tmp_path / "Maildir" / "tmp" / "partial").write_bytes(b"From: half written")
    sub = md.add_folder("Complaints")  # Maildir++ dot-folder
    sub.add(mailbox.MaildirMessage(make_email(message_id="<sub@x>")))
    ids = sorted(i.message_id for i in mail_items([tmp_path / "Maildir"]) if isinstance(i, Message))
    assert ids == ["<cur@x>", "<new@x>", "<sub@x>"]


def test_outlook_msg_is_recognised_by_content_even_without_extension(corpus: Path, tmp_path: Path) -> None:
    data = (corpus / "outlook-msg" / "simple_email_with_TO_and_CC_single.msg").read_bytes()
    (tmp_path / "no-extension").write_bytes(data)
    [item] = list(read_file(tmp_path / "no-extension"))
    assert isinstance(item, Message)
    assert item.subject == "Test E-Mail" and item.sender_addr and item.received_at is not None
    assert item.raw == data


def test_missing_path_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no-such-folder: no such file or folder"):
        list(iter_paths([tmp_path / "no-such-folder"]))


def test_webform_senders_set_the_channel(tmp_path: Path) -> None:
    (tmp_path / "form.eml").write_bytes(make_email(sender="Website <forms@northbrook-homes.example>"))
    (tmp_path / "mail.eml").write_bytes(make_email(message_id="<other@x>"))
    items = list(mail_items([tmp_path], webform_senders=["forms@northbrook-homes.example"]))
    assert sorted(i.channel for i in items) == ["email", "webform"]


def test_unreadable_file_is_quarantined_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "locked.eml"
    path.write_bytes(make_email())

    def refuse(self: Path) -> bytes:  # permissions do not bind root, who runs CI: simulate them
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", refuse)
    [item] = list(read_file(path))
    assert isinstance(item, Quarantined) and item.reason == "could not read the file: Permission denied"


# -- storing what is read: batches are stored in a thread beside the reading ---------------------
def _many(n: int, start: int = 0) -> list[Message]:
    from triage.ingest.email_parse import parse_email
    from triage.message import Source

    return [
        parse_email(make_email(message_id=f"<m{i}@x>", body=f"Message {i}."), Source("file", path=f"{i}.eml"))
        for i in range(start, start + n)
    ]  # type: ignore[misc]


def test_a_long_read_is_stored_whole_and_in_order(store, tmp_path: Path) -> None:
    from triage.jobs import _ingest_one

    items = _many(1_234)
    run_id = store.start_run("t")
    result = _ingest_one(store, "many", run_id, lambda: iter(items + items[:10]))
    assert result.counts.as_dict() == {"seen": 1_244, "stored": 1_234, "duplicates": 10, "quarantined": 0}
    assert [store.message(pk)["message_id"] for pk in (1, 500, 501, 1_234)] == ["<m0@x>", "<m499@x>", "<m500@x>", "<m1233@x>"]


def test_what_was_read_before_a_reading_error_is_stored(sqlite_store, tmp_path: Path) -> None:
    from triage.jobs import _ingest_one

    def items():
        yield from _many(700)
        raise InputError("survey.csv: the column 'comment' is missing.")

    result = _ingest_one(sqlite_store, "broken", sqlite_store.start_run("t"), items)
    assert result.error == "survey.csv: the column 'comment' is missing." and result.counts.stored == 700
    assert sqlite_store.count() == 700


def test_an_error_storing_a_batch_is_raised_to_the_reader(sqlite_store, monkeypatch: pytest.MonkeyPatch) -> None:
    from triage.jobs import _ingest_one
    from triage.store.db import Store

    real_add, calls = Store.add, []

    def add(self, batch, run_id=None):
        calls.append(len(batch))
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_add(self, batch, run_id)

    monkeypatch.setattr(Store, "add", add)
    with pytest.raises(RuntimeError, match="disk full"):
        _ingest_one(sqlite_store, "x", sqlite_store.start_run("t"), lambda: iter(_many(2_100)))
    assert sqlite_store.count() == 500 and calls[:2] == [500, 500]
