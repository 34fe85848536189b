"""A throwaway Dovecot IMAP server on 127.0.0.1 for the tests and the IMAP benchmark.

Started from Debian's ``dovecot-imapd`` with its own configuration in a temporary folder:
Maildir storage, users in a passwd-file (each test adds its own, so each gets an empty
mailbox), plaintext login allowed (loopback only), and TLS with a self-signed certificate made
here, on a STARTTLS port and an implicit-TLS port. XOAUTH2 is offered too: Dovecot 2.3 checks
the bearer token like a password, so a user whose passwd-file password is a token logs in with
that token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from imapclient import IMAPClient


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@dataclass
class User:
    name: str
    password: str


class Dovecot:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="triage-dovecot-"))
        self.root.chmod(0o755)  # the mail user (not root) must reach its Maildir
        self.host = "127.0.0.1"
        self.port = free_port()  # plain and STARTTLS
        self.ssl_port = free_port()  # implicit TLS
        self.cert, self.key = self_signed_cert(self.root)
        self.ca_file = str(self.cert)
        self.passwd = self.root / "passwd"
        self._pool = [User(f"u{i:03d}{secrets.token_hex(3)}", secrets.token_urlsafe(12)) for i in range(200)]
        self.passwd.write_text("".join(f"{u.name}:{{PLAIN}}{u.password}::::::\n" for u in self._pool))
        (self.root / "mail").mkdir()
        (self.root / "run").mkdir()
        if os.geteuid() == 0:  # Dovecot refuses to keep mail as root: use nobody
            mail_user = pwd.getpwnam("nobody")
            os.chown(self.root / "mail", mail_user.pw_uid, mail_user.pw_gid)
            self.uid, self.gid = mail_user.pw_uid, mail_user.pw_gid
            extra = ""
        else:  # non-root mode: every service runs as the current user, without chroot
            self.uid, self.gid = os.getuid(), os.getgid()
            me = pwd.getpwuid(self.uid).pw_name
            extra = (
                f"default_login_user = {me}\ndefault_internal_user = {me}\n"
                "service anvil {\n  chroot =\n}\nservice imap-login {\n  chroot =\n}\n"
            )
        self.config = self.root / "dovecot.conf"
        self.config.write_text(
            f"""base_dir = {self.root}/run
state_dir = {self.root}/state
instance_name = triage-test-{self.port}
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{self.cert}
ssl_key = <{self.key}
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2
auth_failure_delay = 0
mail_location = maildir:{self.root}/mail/%u
mailbox_idle_check_interval = 1 secs
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.passwd}
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.ssl_port}
    ssl = yes
  }}
}}
{extra}"""
        )

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        # Output to a file, not a pipe: the daemon's children would hold a pipe open forever.
        with (self.root / "start.log").open("w") as out:
            done = subprocess.run(
                [self.binary, "-c", str(self.config)], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        if done.returncode != 0:
            raise RuntimeError(f"dovecot did not start: {(self.root / 'start.log').read_text()}{self.log_tail()}")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log_tail()}")

    def master_pid(self) -> int | None:
        try:
            return int((self.root / "run" / "master.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop the server and every connection it serves (as a crash or restart would)."""
        pid = self.master_pid()
        if pid is None:
            return
        children = _children(pid)  # imap processes may outlive the master: end them too
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, n: int = 20) -> str:
        try:
            return "\n" + "\n".join((self.root / "dovecot.log").read_text().splitlines()[-n:])
        except OSError:
            return ""

    # -- users and mail -------------------------------------------------------------------
    def new_user(self) -> User:
        """A user with an empty mailbox, from a pool written before the server started (Dovecot
        re-reads a changed passwd-file only by whole-second mtime, too coarse for quick tests)."""
        return self._pool.pop()

    def client(self, user: User) -> IMAPClient:
        """An admin client, logged in over plain IMAP on loopback."""
        c = IMAPClient(self.host, port=self.port, ssl=False, timeout=30)
        c.login(user.name, user.password)
        return c

    def maildir(self, user: User) -> Path:
        return self.root / "mail" / user.name
