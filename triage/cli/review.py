"""The staff review app: ``triage serve``, ``triage user`` and ``triage export-reviews``."""

from __future__ import annotations

from pathlib import Path

import click

from triage.cli.common import friendly_errors, shown_url, store_opt, store_option
from triage.errors import TriageError


@click.command()
@store_opt(None, "SQLite file or postgresql:// URL (default: the store of pipelines/sample.toml).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on. Keep 127.0.0.1 unless behind TLS.")
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Send cookies without the Secure flag (plain http on a name other than localhost/127.0.0.1).",
)
@click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern-ireland"]),
    default="england",
    show_default=True,
    help="Whose bank holidays count for the deadlines shown.",
)
@click.option(
    "--trusted-proxies",
    type=int,
    default=0,
    show_default=True,
    help="How many reverse proxies in front of the app set X-Forwarded-For (1 behind nginx or Caddy); "
    "sign-in throttling then sees each client's own address.",
)
@friendly_errors
def serve(store: str | None, host: str, port: int, insecure_cookies: bool, nation: str, trusted_proxies: int) -> None:
    """Run the staff review web app (sign in, confirm and correct, agreement, audit trail).

    Example:

        triage user add alex --role admin
        triage serve --port 8000
    """
    from triage.logs import configure as configure_logging
    from triage.review import Settings, create_app
    from triage.review.server import default_store, make_server, open_store

    configure_logging(click.get_current_context().find_root().params.get("log_format") or "text")
    url = store or default_store()
    app = create_app(
        open_store(url), Settings(secure_cookies=not insecure_cookies, nation=nation, trusted_proxies=trusted_proxies)
    )
    server = make_server(app, host, port)
    click.echo(f"Review app for {shown_url(url)} on http://{host}:{port}/ (Ctrl+C stops it)")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


@click.group()
def user() -> None:
    """Review-app accounts: add, list, disable, unthrottle, sign-ins.

    Example:

        triage user add alex --role admin --store triage.db
    """


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "admin"]), default="reviewer", show_default=True)
@click.option("--password-env", default=None, help="Read the password from this environment variable instead of asking.")
@store_option
@friendly_errors
def user_add(name: str, role: str, password_env: str | None, store: str) -> None:
    """Add an account; the password is asked for (twice) unless --password-env names a variable.

    Example:

        TRIAGE_PW='a long passphrase' triage user add sam --role reviewer --password-env TRIAGE_PW
    """
    import os

    from triage.review.auth import add_user
    from triage.store.db import Store

    if password_env:
        if not os.environ.get(password_env):
            raise TriageError(
                f"the environment variable {password_env} is not set or is empty. Set it, or leave out --password-env."
            )
        password = os.environ[password_env]
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with Store(store) as db:
        made = add_user(db, name, password, role)
    click.echo(f"Added {made.name} ({made.role}).")


@user.command("list")
@store_option
@friendly_errors
def user_list(store: str) -> None:
    """List accounts with their role and whether they are disabled.

    Example:

        triage user list --store triage.db
    """
    from triage.review.auth import list_users
    from triage.store.db import Store

    with Store(store) as db:
        people = list_users(db)
    for p in people:
        click.echo(f"{p['name']:<24} {p['role']:<9} {'disabled' if p['disabled'] else 'active'}")
    if not people:
        click.echo("No users yet: triage user add NAME --role admin")


@user.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again instead.")
@store_option
@friendly_errors
def user_disable(name: str, enable: bool, store: str) -> None:
    """Disable an account (its sessions end at once), or enable it again.

    Example:

        triage user disable sam --store triage.db
    """
    from triage.review.auth import list_users, set_disabled
    from triage.store.db import Store

    with Store(store) as db:
        found = [p for p in list_users(db) if p["name"] == name]
        if not found:
            raise TriageError(f"there is no user called {name!r}; `triage user list` shows them.")
        set_disabled(db, found[0]["id"], not enable)
    click.echo(f"{'Enabled' if enable else 'Disabled'} {name}.")


@user.command("unthrottle")
@click.argument("name", required=False)
@click.option("--address", default=None, help="Only from this address; or, with no NAME, this address for every name.")
@store_option
@friendly_errors
def user_unthrottle(name: str | None, address: str | None, store: str) -> None:
    """Lift sign-in throttling: forget a name's recent failures (from every address, or one), or
    an address's (for every name). The lift is logged.

    Example:

    \b
        triage user unthrottle sam --store triage.db
        triage user unthrottle --address 203.0.113.7 --store triage.db
    """
    from datetime import UTC, datetime

    from triage.review.throttle import lift
    from triage.store.db import Store

    if not name and not address:
        raise TriageError("name an account, an --address, or both: `triage user sign-ins` shows who is throttled.")
    with Store(store) as db:
        lift(db, datetime.now(UTC), name, address)
    click.echo(f"Lifted the sign-in throttle for {name or 'every name'} from {address or 'every address'}.")


@user.command("sign-ins")
@click.option("--name", default=None, help="Only this account name (as typed at sign-in).")
@click.option("--address", default=None, help="Only this source address.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of a table.")
@store_option
@friendly_errors
def user_sign_ins(name: str | None, address: str | None, limit: int, as_json: bool, store: str) -> None:
    """The sign-in log, newest first: success, failure, throttled and lifted, with the address.

    Example:

        triage user sign-ins --name sam --store triage.db
    """
    import json

    from triage.review.throttle import sign_in_log
    from triage.store.db import Store

    with Store(store) as db:
        rows = sign_in_log(db, name, address, limit=limit)
    for r in rows:
        if as_json:
            click.echo(json.dumps(r | {"at": r["at"].isoformat()}))
        else:
            click.echo(f"{r['at']:%Y-%m-%d %H:%M:%S}Z  {r['outcome']:<9} {r['name']:<24} {r['address']}")


@click.command("export-reviews")
@store_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=Path("training_data/reviews/reviews.jsonl"),
    show_default=True,
    help="JSONL file to write (training_data/reviews/ is what `triage train --with-reviews` reads).",
)
@friendly_errors
def export_reviews(store: str, out: Path) -> None:
    """Write confirmed and corrected items as training data, with personal data redacted.

    Names, emails, phone numbers, addresses, postcodes and reference numbers become [NAME],
    [EMAIL], [PHONE], [ADDRESS], [POSTCODE] and [REF]. Each message's latest decision is used.

    Example:

        triage export-reviews --store triage.db && triage train --with-reviews
    """
    from triage.review.export import export_reviews as run_export
    from triage.store.db import Store

    with Store(store) as db:
        counts = run_export(db, out)
    click.echo(
        f"Wrote {counts['confirmed'] + counts['corrected']} reviewed items to {out} "
        f"({counts['confirmed']} confirmed, {counts['corrected']} corrected)."
    )
