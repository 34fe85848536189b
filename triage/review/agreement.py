"""How often staff accept the model: per kind, dissatisfaction, per theme and per flag rule; a
confusion matrix of model against staff; and where the model is most often overruled.

Computed from each message's current decision (its latest review).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from triage.labels import KINDS, THEMES


@dataclass
class Rate:
    """Of ``total`` items where the model said it, ``kept`` were kept by staff; ``added`` items staff
    gave it that the model had not."""

    label: str
    total: int = 0
    kept: int = 0
    added: int = 0

    @property
    def acceptance(self) -> float | None:
        return self.kept / self.total if self.total else None

    @property
    def overruled(self) -> int:
        return self.total - self.kept + self.added


@dataclass
class Agreement:
    reviewed: int = 0
    confirmed: int = 0
    kinds: list[Rate] = field(default_factory=list)
    dissatisfied: list[Rate] = field(default_factory=list)
    themes: list[Rate] = field(default_factory=list)
    flags: list[Rate] = field(default_factory=list)
    confusion: dict[str, dict[str, int]] = field(default_factory=dict)  # model kind -> staff kind -> n

    @property
    def confirmed_share(self) -> float | None:
        return self.confirmed / self.reviewed if self.reviewed else None

    def most_overruled(self, n: int = 10) -> list[tuple[str, int, int]]:
        """(what, times overruled, times the model said it) for the worst labels, themes and flags."""
        items = [(f"kind {r.label}", r.total - r.kept, r.total) for r in self.kinds if r.total - r.kept]
        items += [(f"dissatisfied {r.label}", r.total - r.kept, r.total) for r in self.dissatisfied if r.total - r.kept]
        items += [(f"theme {r.label}", r.overruled, r.total) for r in self.themes if r.overruled]
        items += [(f"flag {r.label}", r.overruled, r.total) for r in self.flags if r.overruled]
        return sorted(items, key=lambda x: (-x[1], x[0]))[:n]


def agreement(decisions: list[dict[str, Any]]) -> Agreement:
    result = Agreement(reviewed=len(decisions))
    result.confusion = {m: dict.fromkeys(KINDS, 0) for m in KINDS}
    kinds = {k: Rate(k) for k in KINDS}
    diss = {v: Rate(v) for v in ("yes", "no")}
    themes = {t: Rate(t) for t in THEMES}
    flags: dict[str, Rate] = {}
    for d in decisions:
        result.confirmed += d["action"] == "confirmed"
        result.confusion.setdefault(d["model_kind"], dict.fromkeys(KINDS, 0))
        result.confusion[d["model_kind"]][d["kind"]] = result.confusion[d["model_kind"]].get(d["kind"], 0) + 1
        rate = kinds.setdefault(d["model_kind"], Rate(d["model_kind"]))
        rate.total += 1
        rate.kept += d["kind"] == d["model_kind"]
        if d["kind"] != d["model_kind"]:
            kinds.setdefault(d["kind"], Rate(d["kind"])).added += 1
        said = diss["yes" if d["model_dissatisfied"] else "no"]
        said.total += 1
        said.kept += bool(d["dissatisfied"]) == bool(d["model_dissatisfied"])
        for table, model_side, staff_side in ((themes, d["model_themes"], d["themes"]), (flags, d["model_flags"], d["flags"])):
            for label in set(model_side) | set(staff_side):
                r = table.setdefault(label, Rate(label))
                if label in model_side:
                    r.total += 1
                    r.kept += label in staff_side
                else:
                    r.added += 1
    result.kinds = list(kinds.values())
    result.dissatisfied = list(diss.values())
    result.themes = list(themes.values())
    result.flags = sorted(flags.values(), key=lambda r: r.label)
    return result


def overrule_pairs(a: Agreement, n: int = 5) -> list[tuple[str, str, int]]:
    """The commonest (model kind, staff kind) disagreements."""
    pairs = Counter({(m, s): c for m, row in a.confusion.items() for s, c in row.items() if m != s and c})
    return [(m, s, c) for (m, s), c in pairs.most_common(n)]
