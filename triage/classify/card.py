"""The model card's sections on the cascade, the encoder, real-text figures and file integrity
(appended to the card ``triage train`` writes)."""

from __future__ import annotations

from typing import Any


def _real_text(real: dict[str, Any]) -> str:
    lines = []
    tweets = real.get("tweets-dev", {})
    if "missing" in tweets:
        lines.append(f"- tweets-dev: {tweets['missing']}")
    elif tweets:
        for part, label in (("all", "all tweets"), ("brand", "brand tweets")):
            r = tweets[part]
            lines.append(
                f"- tweets-dev, {label} ({r['examples']}, {r['complaints']} complaints): complaint/not macro-F1 "
                f"{r['macro_f1']:.3f}, complaint precision {r['precision']:.3f}, recall {r['recall']:.3f}"
            )
    omb = real.get("ombudsman-dev", {})
    if "missing" in omb:
        lines.append(f"- ombudsman-dev: {omb['missing']}")
    elif omb:
        per = ", ".join(f"{t} {v['f1']:.2f} ({v['support']})" for t, v in omb["themes"].items())
        lines.append(
            f"- ombudsman-dev ({omb['examples']} summaries): complaint recall {omb['complaint_recall']:.3f}, "
            f"theme micro-F1 {omb['theme_micro_f1']:.3f}; per theme F1 (n): {per}"
        )
    return "\n".join(lines)


def card_extras(meta: dict[str, Any]) -> str:
    parts = []
    if enc := meta.get("encoder"):
        gate = meta.get("cascade", {}).get("gate", {})
        routed = meta.get("cascade", {}).get("dev_routed_to_encoder")
        parts.append(f"""
## Cascade and sentence encoder
Two models share the spaCy features. The fast model (tf-idf heads, above) decides the clear
cases; a message goes to the encoder model (the same tf-idf features joined to the sentence
embedding, weight {gate.get("embedding_weight")}, with its own heads, calibration and thresholds) when it is
short (fewer than {gate.get("short_words")} words), uncertain (kind confidence below {gate.get("confidence_below")},
dissatisfied score in {gate.get("dissatisfied_band")}, complaint probability in {gate.get("complaint_band")}) or
unfamiliar (under {gate.get("known_below")} of its words in the vocabulary). On dev the encoder model decided
{routed if routed is None else f"{routed:.1%}"} of messages; `decided_by` in each prediction says which model answered.

Two rules in the encoder model's stage: it calls a message a complaint only when its dissatisfied
score is at least {gate.get("complaint_floor")} (a complaint is always dissatisfied, GUIDE 4); and a general
reading of dissatisfaction from the embedding alone (logistic regression, C {gate.get("general_c")}, learnt from
training messages under {gate.get("general_train_words", "any number of")} words, threshold at out-of-fold recall
{gate.get("general_recall")}) marks a short message whose words are under
{gate.get("general_known_below")} known as dissatisfied, for review, when the encoder model did not. It only
ever adds dissatisfaction and never changes the kind; the flags then show a possible ghost stage.

Encoder: {enc["name"]} (upstream {enc.get("upstream")}, revision {enc["version"]}, licence {enc["licence"]}),
{enc.get("dim")} dimensions, float16 weights, subject and new text truncated at {gate.get("max_tokens")} word pieces,
run with numpy (`triage/classify/encoder.py`); provenance and checks in
`models/encoders/{enc["name"]}/PROVENANCE.md`.""")
    if meta.get("config", {}).get("theme_stacker"):
        c = meta["config"]
        parts.append(f"""
## Themes: a second stage over all the scores
Each model's themes are decided by boosted trees, one per theme (scikit-learn
HistGradientBoosting, {c.get("stacker_iterations")} trees of {c.get("stacker_leaves")} leaves, learning rate
{c.get("stacker_learning_rate")}), reading all 21 head scores (kinds, dissatisfied, themes) and the word count
together, trained on the heads' out-of-fold scores, with thresholds chosen on their own
out-of-fold probabilities. The encoder model's trees also read the labels of the 15 training
messages nearest in the sentence encoder's space (`triage/classify/stacker.py`). A theme's
probability in a prediction is the trees'.""")
    if real := meta.get("metrics", {}).get("real_text"):
        parts.append(f"""
## Real text (evaluation only, never trained or tuned on item by item)
Scored as the corpora's READMEs say (`../shared/corpora/*/README.md`).

{_real_text(real)}""")
    parts.append("""
## Integrity
`model.json` lists the size and SHA-256 of `model.pkl.zlib` and of this card (and of every encoder
file). Loading checks them all before anything is unpickled, and refuses a missing, truncated or
changed file with a message naming it; only `model.pkl.zlib` from the verified folder is unpickled.
""")
    return "\n".join(parts)
