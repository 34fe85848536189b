"""How messages are linked into cases, and the case-history ghost-stage thresholds.

The defaults live here, once; a pipeline file's ``[cases]`` section overrides them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
    _compiled: tuple[tuple[re.Pattern[str], str], ...] = field(default=(), repr=False, compare=False)  # (pattern, prefix)

    def __post_init__(self) -> None:
        compiled = []
        for pattern in self.reference_patterns:
            try:
                rx = re.compile(pattern, re.IGNORECASE)
            except re.error as exc:
                raise ConfigError(f"reference pattern {pattern!r} is not a valid regular expression: {exc}.") from exc
            if rx.groups != 1:
                raise ConfigError(f"reference pattern {pattern!r} must have exactly one (group): the reference itself.")
            compiled.append((rx, literal_prefix(pattern)))
        object.__setattr__(self, "_compiled", tuple(compiled))

    def from_landlord(self, sender_addr: str) -> bool:
        domain = sender_addr.rpartition("@")[2].lower()
        return bool(domain) and any(domain == d or domain.endswith("." + d) for d in self.own_domains)

    def references(self, text: str) -> list[tuple[str, str]]:
        """(normalised reference, as written) for each reference in ``text``, in order, once each."""
        found: dict[str, str] = {}
        lowered = text.lower()
        if len(lowered) != len(text):  # U+0130 lowers to two characters: positions would differ
            lowered = ""
        for rx, prefix in self._compiled:
            for m in _finditer(rx, prefix if lowered else "", text, lowered):
                found.setdefault(normalise_reference(m.group(1)), m.group(0))
        return list(found.items())


def _finditer(rx: re.Pattern[str], prefix: str, text: str, lowered: str) -> Iterator[re.Match[str]]:
    """``rx.finditer(text)``, trying a match only where ``lowered`` (``text`` lower-cased, of
    the same length) holds ``prefix``, the letters every match starts with: a case-insensitive
    pattern is tried at every position of a long quoted thread, twenty times slower than
    ``str.find``. A match tried at a position still sees the text before it (look-behinds)."""
    if not prefix:
        yield from rx.finditer(text)
        return
    at = lowered.find(prefix)
    while at >= 0:
        m = rx.match(text, at)
        if m is not None:
            yield m
        at = lowered.find(prefix, m.end() if m is not None else at + 1)  # a match is never empty: it holds the prefix


FINDABLE = frozenset(map(chr, range(128))) - set("iksIKS")  # ASCII without a non-ASCII case twin (ı İ, K, ſ)


def literal_prefix(pattern: str) -> str:
    """The characters, lower-cased, that every case-insensitive match of ``pattern`` starts with,
    so far as ``str.find`` on the lower-cased text finds each such match (ASCII characters but
    i, k and s, which match non-ASCII letters too). '' when there are none, or when the pattern
    cannot be read so (it is then tried at every position, as before)."""
    try:
        from re import _constants, _parser  # CPython's own reading of a pattern

        def walk(items: object) -> tuple[str, bool]:  # (prefix, all of items is that prefix)
            out = ""
            for op, av in items:  # type: ignore[attr-defined]
                if op is _constants.LITERAL and chr(av) in FINDABLE:
                    out += chr(av).lower()
                elif op is _constants.SUBPATTERN and not av[1] and not av[2]:  # a group, its flags unchanged
                    inner, whole = walk(av[3])
                    out += inner
                    if not whole:
                        return out, False
                else:
                    return out, False
            return out, True

        return walk(_parser.parse(pattern, re.IGNORECASE))[0]
    except Exception:  # another Python's internals: no prefix, every position tried
        return ""


def normalise_reference(ref: str) -> str:
    """``CMP-12345``, ``cmp 12345`` -> ``CMP12345``: how references are stored and matched."""
    return re.sub(r"[\s\-_/]", "", ref).upper()
