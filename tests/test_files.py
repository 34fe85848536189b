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
