"""The routing table: priority order, the complaints register, the default, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from triage.errors import ConfigError
from triage.route.routing import load_table, route


@pytest.fixture(scope="module")
def table():
    return load_table()


@pytest.mark.parametrize(
    ("kind", "themes", "dissatisfied", "queue", "register"),
    [
        ("service_request", ["repairs"], False, "Repairs and Maintenance", False),
        ("complaint", ["contractor", "repairs"], True, "Repairs and Maintenance", True),  # repairs outranks contractor
        ("complaint", ["contractor"], True, "Property Services", True),
        ("complaint", ["communication", "homelessness"], True, "Housing Options", True),
        ("service_request", ["anti_social_behaviour"], False, "Neighbourhoods", False),
        ("mp_enquiry", ["allocations"], True, "Allocations", True),  # a dissatisfied MP enquiry is a complaint (1.3)
        ("mp_enquiry", ["allocations"], False, "Allocations", False),
        ("complaint", ["complaint_handling"], True, "Complaints team", True),
        ("other", [], False, "Customer Services", False),
    ],
)
def test_default_routes(table, kind: str, themes: list[str], dissatisfied: bool, queue: str, register: bool) -> None:
    r = route(table, kind, themes, dissatisfied)
    assert (r.queue, r.on_complaints_register) == (queue, register)
    assert r.rule


def test_every_queue_of_a_typical_housing_department_is_there(table) -> None:
    queues = {r.queue for r in table.rules} | {table.default_queue, table.complaints_register}
    assert {
        "Repairs and Maintenance",
        "Property Services",
        "Allocations",
        "Neighbourhoods",
        "Tenancy Services",
        "Income",
        "Housing Options",
        "Voids and Lettings",
        "Leasehold",
        "Complaints team",
    } <= queues


def test_unknown_theme_in_a_table_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "r.toml"
    path.write_text('default_queue = "X"\ncomplaints_register = "C"\n[[rules]]\nqueue = "Q"\nthemes = ["plumbing"]\n')
    with pytest.raises(ConfigError, match=r"r\.toml: rules\[0\]\.themes: Value error, unknown theme\(s\) \['plumbing'\]"):
        load_table(path)
