"""What the ``triage`` command modules share, in one place: the error wrapper, the store, nation,
date, --by and --today options, and the helpers used by more than one module."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any

import click

from triage.errors import TriageError

DEFAULT_STORE = "triage.db"
STORE_ENV = "TRIAGE_STORE"


def no_password_in_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a store URL with a password typed on the command line: ``ps`` shows it to every
    user of the machine and the shell keeps it in its history."""
    from click.core import ParameterSource

    if value and "://" in value and ctx.get_parameter_source(param.name or "") == ParameterSource.COMMANDLINE:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            has_password = make_url(value).password is not None
        except ArgumentError:
            has_password = False
        if has_password:
            raise click.BadParameter(
                "the URL holds a password, and a command line is visible to every user of this machine. Leave it out "
                f"and put it in PGPASSWORD or a ~/.pgpass file, or put the whole URL in the {STORE_ENV} environment variable."
            )
    return value


def store_opt(default: str | None = DEFAULT_STORE, help: str = "SQLite file or postgresql:// URL.") -> Callable[[Any], Any]:
    """The --store option: also read from TRIAGE_STORE; never a password on the command line."""
    return click.option(
        "--store",
        default=default,
        show_default=default is not None,
        envvar=STORE_ENV,
        callback=no_password_in_url,
        help=f"{help} Also from ${STORE_ENV}.",
    )


store_option = store_opt()


def shown_url(url: str) -> str:
    """A store URL fit to print: any password as ***."""
    if "://" not in str(url):
        return str(url)
    from sqlalchemy.engine import make_url

    return make_url(str(url)).render_as_string(hide_password=True)


def friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TriageError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)

    return wrapper


nation_option = click.option(
    "--nation",
    type=click.Choice(["england", "wales", "scotland", "northern-ireland"]),
    default="england",
    show_default=True,
    help="Whose bank holidays count.",
)
date_type = click.DateTime(["%Y-%m-%d"])
by_option = click.option("--by", "by", required=True, help="Who is recording it.")
today_option = click.option("--today", type=date_type, default=None, help="Treat this date as today (for reports and tests).")


def date_or_today(value: Any) -> Any:
    """The date of a --today/--on style option, or today when it was not given."""
    from datetime import date

    return value.date() if value else date.today()


def commitment_lines(c: Any, day: Any, nation: str) -> list[str]:
    """A commitment as text lines, for ``triage commitment list`` and ``triage case show``."""
    lines = [
        f"#{c.id:<5} case {c.case_pk:<6} {c.status:<10} due {c.due:%a %d %b %Y}  {c.kind:<10} {c.owner or '-':<24} {c.what[:60]}"
    ]
    if flags := "; ".join(c.flags(day, nation)):
        lines.append(f"       {flags.upper() if c.overdue(day, nation) else flags}")
    if not c.tracked:
        lines.append("       not tracked: no response recorded on the case yet")
    return lines
