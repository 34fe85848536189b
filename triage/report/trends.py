"""Is a theme rising or falling against its own history?

The test: an exact two-sided **binomial test** of the theme's share of complaints in the latest
period against its share in all earlier periods of the report. If ``x`` of the latest period's
``n`` complaints carry the theme, and ``h`` of the ``H`` complaints before it did, the null
hypothesis is ``x ~ Binomial(n, h / H)``. Testing the share rather than the count means a theme
is not marked just because all complaints rose (or the last period is a part month).

The themes are tested together, so the p-values are adjusted with **Holm's method** and a theme is
marked when its adjusted p-value is below ``ALPHA`` (0.05).

Nothing is marked on tiny counts: a theme is tested only when there are at least
``MIN_HISTORY_PERIODS`` earlier periods, the theme has at least ``MIN_HISTORY_COUNT`` complaints
in them, and either the latest count or the count expected from history is at least
``MIN_LATEST_COUNT``.
"""

from __future__ import annotations

from dataclasses import dataclass

ALPHA = 0.05
MIN_HISTORY_PERIODS = 3
MIN_HISTORY_COUNT = 10
MIN_LATEST_COUNT = 10
TEST_NAME = "exact binomial test of the latest period's share against the earlier periods' share, Holm-adjusted"


@dataclass(frozen=True, slots=True)
class Trend:
    theme: str
    latest: int
    expected: float  # from the earlier periods' share
    p_value: float | None  # None: not tested (too few)
    adjusted_p: float | None
    direction: str  # "rising", "falling" or "" (not marked)
    reason: str  # why not tested, or ""


def theme_trends(series: dict[str, list[int]], totals: list[int]) -> dict[str, Trend]:
    """``series`` maps theme -> counts per period; ``totals`` are the complaints per period."""
    from scipy.stats import binomtest  # ~1 s to import: only when a report is computed

    raw: dict[str, Trend] = {}
    periods = len(totals)
    n, history_total = totals[-1] if totals else 0, sum(totals[:-1])
    for theme, counts in series.items():
        x, h = counts[-1] if counts else 0, sum(counts[:-1])
        share = h / history_total if history_total else 0.0
        expected = n * share
        reason = ""
        if periods - 1 < MIN_HISTORY_PERIODS:
            reason = f"fewer than {MIN_HISTORY_PERIODS} earlier periods"
        elif h < MIN_HISTORY_COUNT:
            reason = f"fewer than {MIN_HISTORY_COUNT} complaints with this theme in earlier periods"
        elif max(x, expected) < MIN_LATEST_COUNT:
            reason = f"fewer than {MIN_LATEST_COUNT} in the latest period, observed and expected"
        elif n == 0 or share in (0.0, 1.0):
            reason = "no complaints to compare"
        if reason:
            raw[theme] = Trend(theme, x, round(expected, 1), None, None, "", reason)
            continue
        p = float(binomtest(x, n, share, alternative="two-sided").pvalue)
        raw[theme] = Trend(theme, x, round(expected, 1), p, None, "", "")
    adjusted = _holm({t: r.p_value for t, r in raw.items() if r.p_value is not None})
    out = {}
    for theme, r in raw.items():
        if r.p_value is None:
            out[theme] = r
            continue
        q = adjusted[theme]
        direction = ("rising" if r.latest > r.expected else "falling") if q < ALPHA else ""
        out[theme] = Trend(theme, r.latest, r.expected, r.p_value, q, direction, "")
    return out


def _holm(pvalues: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni step-down adjusted p-values."""
    ordered = sorted(pvalues.items(), key=lambda kv: kv[1])
    m, running, out = len(ordered), 0.0, {}
    for i, (key, p) in enumerate(ordered):
        running = max(running, min(1.0, (m - i) * p))
        out[key] = running
    return out
