"""Training runs: a config file in pipelines/ plus one command (``triage train``).

Training is deterministic: the same data and config give the same model and metrics (the
folds are seeded, the data is read in id order, and the solvers are deterministic).
"""

from __future__ import annotations

import time
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from triage.classify import artefact
from triage.classify.card import card_extras
from triage.classify.cascade import CascadeModel, GateConfig
from triage.classify.data import Example, data_hash, load_split, split_files
from triage.classify.evaluate import evaluate
from triage.classify.model import ModelConfig, TriageModel
from triage.classify.realtext import evaluate_real_text
from triage.errors import ConfigError, InputError
from triage.pipeline import load_toml

_STRICT = ConfigDict(extra="forbid")
DEFAULT_CONFIG = Path("pipelines/train.toml")


class DataSection(BaseModel):
    model_config = _STRICT
    root: str = Field("../training_data", description="Folder with train/, dev/ and test/ JSONL files.")
    corpora: str = Field(
        "../../shared/corpora",
        description="Real-text corpora for the model card's figures (evaluation only; skipped when absent).",
    )


class ModelSection(BaseModel):
    model_config = _STRICT
    name: str = "default"
    output: str = Field("../models", description="Artefacts go to <output>/<name>/.")


class CascadeSection(BaseModel):
    model_config = _STRICT
    encoder: str = Field("all-minilm-l6-v2", description="Sentence encoder in models/encoders/<encoder>/.")
    gate: dict[str, Any] = Field(default_factory=dict, description="GateConfig values: when the encoder model decides.")

    def gate_config(self) -> GateConfig:
        known = set(GateConfig.__dataclass_fields__)
        if unknown := set(self.gate) - known:
            raise ConfigError(f"unknown [cascade.gate] key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}.")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in self.gate.items()}
        return GateConfig(**values)


class TrainConfig(BaseModel):
    model_config = _STRICT
    data: DataSection = DataSection()
    model: ModelSection = ModelSection()
    params: dict[str, Any] = Field(default_factory=dict)
    cascade: CascadeSection | None = Field(None, description="A cascade with a sentence encoder; absent: tf-idf only.")
    base_dir: Path = Field(default=Path("."), exclude=True)

    def path(self, value: str) -> Path:
        p = Path(value)
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def model_params(self) -> ModelConfig:
        known = {f.name for f in fields(ModelConfig)}
        unknown = set(self.params) - known
        if unknown:
            raise ConfigError(f"unknown [params] key(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}.")
        params = dict(self.params)
        if "char_ngrams" in params:
            params["char_ngrams"] = tuple(params["char_ngrams"])
        return ModelConfig(**params)


def load_config(path: str | Path) -> TrainConfig:
    config = load_toml(path, TrainConfig, "training config", "The shipped one is pipelines/train.toml.")
    config.model_params()  # validate [params] early
    if config.cascade is not None:
        config.cascade.gate_config()
    return config


REVIEWS = "reviews"  # <data root>/reviews/*.jsonl: staff decisions from `triage export-reviews`


def review_files(root: Path) -> list[Path]:
    files = sorted((root / REVIEWS).glob("*.jsonl"))
    if not files:
        raise InputError(
            f"{root / REVIEWS}: no exported reviews (.jsonl). Run `triage export-reviews` first, or train without --with-reviews."
        )
    return files


def fit_model(config: TrainConfig, examples: list[Example]) -> TriageModel | CascadeModel:
    """The model the config describes (a cascade when it has a [cascade] section), fitted.

    On one thread (BLAS and OpenMP): scikit-learn's loss sums its parts in parallel, and a sum
    split over two threads ends in different last bits than over one, so the same data and
    config gave a slightly different model on a 2-core machine than on one core. On one thread
    the model is the same whatever the machine's cores."""
    from threadpoolctl import threadpool_limits

    params = config.model_params()
    with threadpool_limits(limits=1):
        if config.cascade is None:
            return TriageModel(params).fit(examples)
        from triage.classify.encoder import SentenceEncoder

        encoder = SentenceEncoder(artefact.ENCODERS / config.cascade.encoder)
        return CascadeModel(params, config.cascade.gate_config(), config.cascade.encoder).attach(encoder).fit(examples)


def train(config: TrainConfig, with_reviews: bool = False, challenger: bool = False) -> tuple[Path, dict[str, Any]]:
    """Fit on the train split (plus exported staff reviews when asked: training only, never
    evaluation) and report on the dev split.

    Staff reviews count ``review_weight`` times as much as an invented example, and a fixed
    quarter of them (by id) is held back to judge the new model against the live one. With
    ``challenger`` the model is written as a new version beside the live one (see
    triage.classify.registry), not over it."""
    from triage.classify import registry

    root = config.path(config.data.root)
    params = config.model_params()
    extra = review_files(root) if with_reviews else []  # before the slow part: fail fast
    train_set = load_split(root, "train")
    reviewed, held_back = registry.split_reviews(extra)
    for example in reviewed:
        example.weight = params.review_weight
    train_set = sorted(train_set + reviewed, key=lambda e: e.input.id)
    dev_set = load_split(root, "dev")
    started = time.process_time()
    model = fit_model(config, train_set)
    fit_cpu_seconds = time.process_time() - started
    encoder_folder = artefact.ENCODERS / config.cascade.encoder if config.cascade is not None else None
    dev_predictions = model.predict([e.input for e in dev_set])
    dev_metrics = evaluate(dev_set, dev_predictions)
    live = config.path(config.model.output) / config.model.name
    folder = registry.staging_folder(live) if challenger else live
    files = split_files(root, "train")
    sidecar = {
        "name": config.model.name,  # not the folder's: a challenger is written in a staging folder
        "training_data": {
            "root": str(root),
            "files": [f.name for f in files],
            "sha256": data_hash(files),
            "examples": len(train_set) - len(reviewed),
            "reviews": {
                "files": [f.name for f in extra],
                "sha256": data_hash(extra),
                "examples": len(reviewed),
                "held_back": len(held_back),
                "weight": params.review_weight,
            }
            if with_reviews
            else None,
        },
        "config": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(params).items()},
        "training": {**model.training_summary, "fit_cpu_seconds": round(fit_cpu_seconds, 1)},
        "metrics": {"dev": {k: v for k, v in dev_metrics.items() if k not in ("worst_errors",)}},
    }
    if isinstance(model, CascadeModel):
        sidecar["cascade"] = {
            "gate": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(model.gate).items()},
            "dev_routed_to_encoder": round(sum(p.decided_by == "encoder" for p in dev_predictions) / max(1, len(dev_set)), 4),
        }
    sidecar["metrics"]["real_text"] = evaluate_real_text(model, config.path(config.data.corpora))
    artefact.save(model, folder, sidecar, card=lambda m: model_card(m) + card_extras(m), encoder_folder=encoder_folder)
    if challenger:
        folder = registry.store_challenger(folder, live).folder
    return folder, dev_metrics


def model_card(meta: dict[str, Any]) -> str:
    dev = meta["metrics"]["dev"]
    base = dev["baseline"]
    kinds = "\n".join(
        f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |" for k, v in dev["kind"].items()
    )
    reviews = meta["training_data"].get("reviews")
    reviewed = (
        f"\n\nPlus {reviews['examples']} staff-reviewed messages exported by `triage export-reviews` "
        f"(`training_data/reviews/`, personal data redacted; SHA-256 `{reviews['sha256'][:16]}...`), in training only, "
        f"each counting {reviews.get('weight', 1)} times; {reviews.get('held_back', 0)} more were held back to compare models."
        if reviews
        else ""
    )
    return f"""# Model card: {meta["name"]}

Generated by `triage train` on {meta["created"]}. SHA-256 of `model.pkl.zlib`: `{meta["sha256"]}`.

## What it does
Reads one message (subject and new text; the quoted thread only for themes) and gives:
`kind` (complaint, service_request, mp_enquiry, compliment, other), `dissatisfied`, and zero or
more of 15 themes, each with a calibrated probability, plus evidence phrases. Labels follow the
Housing Ombudsman's Complaint Handling Code as written down in `training_data/GUIDE.md`.

## Intended use
Triage support for UK social-landlord complaints staff. A classification is a suggestion: items
below the review threshold, or with conflicting signals, are marked `needs_review`; every
decision that matters to a resident stays with a person. Not for automated refusal of a
complaint, and not for languages other than English.

## Training data
{meta["training_data"]["examples"]} hand-written, invented messages (`training_data/train/`, files
{", ".join(meta["training_data"]["files"])}; SHA-256 `{meta["training_data"]["sha256"][:16]}...`). No real
resident's data. The dev split (a fixed 15% by id) chose the settings; the test split was written
separately and is only used by `triage evaluate --split test`.{reviewed}

## Model
Word 1-2-gram and character 2-5-gram tf-idf over spaCy-normalised text, evidence-rule features,
channel and sender domain; logistic regression heads; temperature scaling (kind) and Platt
scaling (dissatisfied, themes) fitted out of fold; a complaint threshold of
{meta["training"]["complaint_threshold"]} chosen out of fold for complaint recall >= {meta["config"]["complaint_recall"]}.
Config: `{meta["config"]}`.

## Dev metrics ({dev["examples"]} examples)
| figure | model | keyword baseline |
|---|---|---|
| kind macro-F1 | {dev["kind_macro_f1"]:.3f} | {base["kind_macro_f1"]:.3f} |
| dissatisfied F1 | {dev["dissatisfied_f1"]:.3f} | {base["dissatisfied_f1"]:.3f} |
| theme micro-F1 | {dev["theme_micro_f1"]:.3f} | {base["theme_micro_f1"]:.3f} |
| theme macro-F1 | {dev["theme_macro_f1"]:.3f} | {base["theme_macro_f1"]:.3f} |
| kind ECE | {dev["kind_ece"]:.3f} | |

| kind | precision | recall | F1 | n |
|---|---|---|---|---|
{kinds}

Test-split figures are printed by `triage evaluate --split test` and recorded in the README.

## Limitations
The corpus is invented by a small team following one guide: real mail is messier, and real
label boundaries drift (contractor vs staff, communication vs complaint handling). Themes with
fewer examples (voids and lettings, contractor) are the least reliable. Retrain with staff
corrections as they accumulate.

## Versions
`{meta["versions"]}`
"""
