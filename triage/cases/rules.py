"""How messages are linked into cases, and the case-history ghost-stage thresholds.

The defaults live here, once; a pipeline file's ``[cases]`` section overrides them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from triage.errors import ConfigError

# A reference the landlord (or its case system) puts in a subject or body. Each pattern has one
# group: the reference itself. Tenancy, rent and account numbers are not case references (they
# would tie every contact from one household together), so they are excluded.
DEFAULT_REFERENCE_PATTERNS: tuple[str, ...] = (
    r"(CMP(?<!\wCMP)[- ]?\d{3,})\b",  # CMP-12345
    # Literals come first and the word boundary and exclusions look back from them: checked at
    # every position of a long quoted thread, they made this the slowest step of linking.
    r"ref(?<!\wref)(?<!tenancy ref)(?<!account ref)(?<!rent ref)(?<!payment ref)(?:erence)?\.?(?:\s*(?:no\.?|number))?\s*[:#]?\s*(\d{5,})\b",
    r"\[(#\d{3,})\]",  # [#1234]: helpdesk-style subject tags
)


@dataclass(frozen=True, slots=True)
class CaseRules:
    reference_patterns: tuple[str, ...] = DEFAULT_REFERENCE_PATTERNS
    window_days: int = 60  # same resident, overlapping theme, last contact within this many days
    chasing_contacts: int = 3  # this many contacts ...
    chasing_days: int = 30  # ... within this many days, with no complaint logged, is repeated chasing
    own_domains: tuple[str, ...] = ()  # the landlord's mail domains: its staff's messages are not resident contacts
    _compiled: tuple[re.Pattern[str], ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        compiled = []
        for pattern in self.reference_patterns:
            try:
                rx = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ConfigError(f"reference pattern {pattern!r} is not a valid regular expression: {exc}.") from exc
            if rx.groups != 1:
                raise ConfigError(f"reference pattern {pattern!r} must have exactly one (group): the reference itself.")
            compiled.append(rx)
        object.__setattr__(self, "_compiled", tuple(compiled))

    def from_landlord(self, sender_addr: str) -> bool:
        domain = sender_addr.rpartition("@")[2].lower()
        return bool(domain) and any(domain == d or domain.endswith("." + d) for d in self.own_domains)

    def references(self, text: str) -> list[tuple[str, str]]:
        """(normalised reference, as written) for each reference in ``text``, in order, once each."""
        found: dict[str, str] = {}
        for rx in self._compiled:
            for m in rx.finditer(text):
                found.setdefault(normalise_reference(m.group(1)), m.group(0))
        return list(found.items())


def normalise_reference(ref: str) -> str:
    """``CMP-12345``, ``cmp 12345`` -> ``CMP12345``: how references are stored and matched."""
    return re.sub(r"[\s\-_/]", "", ref).upper()
