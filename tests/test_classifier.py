"""The classifier: end to end on a tiny corpus, determinism, checked artefacts, bad input, and
the rule that a reply's quoted thread never decides its kind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, make_email

from triage.classify.data import TextInput
from triage.classify.service import load_model
from triage.cli import cli
from triage.errors import ModelError


@pytest.fixture(scope="module")
def model():
    return load_model(ROOT / "models" / "default")[0]


@pytest.fixture(scope="module")
def tiny_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small corpus cut from the real one, and a training config for it."""
    root = tmp_path_factory.mktemp("tiny")
    for split, take in (("train", 80), ("dev", 20), ("test", 40)):
        (root / "data" / split).mkdir(parents=True)
        for path in sorted((ROOT / "training_data" / split).glob("*.jsonl")):
            lines = path.read_text(encoding="utf-8").splitlines()[:take]
            (root / "data" / split / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (root / "train.toml").write_text(
        '[data]\nroot = "data"\n[model]\nname = "tiny"\noutput = "models"\n[params]\nfolds = 3\nmax_features = 20000\n'
    )
    return root


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_train_evaluate_classify_end_to_end_and_deterministic(tiny_project: Path) -> None:
    config = str(tiny_project / "train.toml")
    code, out, err = run("train", "--config", config, "--json")
    assert code == 0, err
    first = json.loads(out)
    folder = tiny_project / "models" / "tiny"
    assert {p.name for p in folder.iterdir()} == {"model.pkl.zlib", "model.json", "MODEL.md"}
    meta = json.loads((folder / "model.json").read_text())
    assert set(meta) >= {"sha256", "versions", "training_data", "config", "metrics"}
    assert meta["versions"]["scikit-learn"] and len(meta["training_data"]["sha256"]) == 64

    code, out, _ = run("train", "--config", config, "--json")
    assert json.loads(out) == first  # same data and config: identical metrics

    code, out, _ = run("evaluate", "--split", "test", "--model", str(folder), "--data", str(tiny_project / "data"))
    assert code == 0
    for figure in (
        "kind macro-F1",
        "dissatisfied F1",
        "theme micro-F1",
        "kind ECE",
        "keyword baseline",
        "confusion",
        "worst errors",
        "coverage",
    ):
        assert figure in out

    jsonl = tiny_project / "in.jsonl"
    jsonl.write_text(json.dumps({"id": "x1", "subject": "Boiler", "body": "The boiler is broken, no heating."}) + "\n")
    code, out, _ = run("classify", str(jsonl), "--model", str(folder))
    [line] = out.splitlines()
    result = json.loads(line)
    assert set(result) >= {
        "id",
        "kind",
        "kind_scores",
        "dissatisfied",
        "dissatisfied_score",
        "themes",
        "theme_scores",
        "needs_review",
        "evidence",
    }
    assert result["id"] == "x1" and abs(sum(result["kind_scores"].values()) - 1) < 1e-3


def test_tampered_model_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "default"
    shutil.copytree(ROOT / "models" / "default", folder)
    data = bytearray((folder / "model.pkl.zlib").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.pkl.zlib").write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"model\.pkl\.zlib: refused to load: its SHA-256"):
        load_model(folder)
    code, _, err = run("classify", str(ROOT / "triage/sample/mailbox/01-kitchen-tap-dripping.eml"), "--model", str(folder))
    assert code == 1 and "refused to load" in err and "Traceback" not in err


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no model sidecar"):
        load_model(tmp_path)


def test_quoted_thread_never_decides_kind(model) -> None:
    angry = "> THIS IS DISGUSTING. Third time I have reported the boiler and NOBODY came. I want to complain.\n" * 3
    calm = "> Please could you book a boiler service at your convenience.\n"
    a, b = model.predict(
        [
            TextInput("a", "Re: boiler", "Thanks, all sorted now.", angry),
            TextInput("b", "Re: boiler", "Thanks, all sorted now.", calm),
        ]
    )
    assert a.kind_scores == b.kind_scores and a.dissatisfied_score == b.dissatisfied_score
    assert a.kind == "compliment"


def test_a_forward_with_no_new_text_is_read_as_what_it_forwards(model) -> None:
    [p] = model.predict(
        [
            TextInput(
                "f",
                "Fwd: complaint",
                "",
                "---------- Forwarded message ---------\nFrom: Jo\n\n"
                "This is the fourth time I have reported the leak and nobody has come. I am disgusted.",
            )
        ]
    )
    assert p.kind == "complaint"


@pytest.mark.parametrize(
    ("new", "reason"),
    [
        ("", "no text to classify"),
        ("\x00\x01\x02\x03\ufffd\ufffd\ufffd" * 200, "binary data"),
        ("Ich habe seit drei Wochen keine Heizung und niemand antwortet auf meine E-Mails.", "may not be in English"),
    ],
)
def test_bad_input_is_marked_for_review_not_crashed(model, new: str, reason: str) -> None:
    [p] = model.predict([TextInput("bad", "", new, "")])
    assert p.needs_review and any(reason in r for r in p.review_reasons)


def test_five_megabyte_body_is_classified_with_a_reason(model) -> None:
    body = "The leak under the sink is getting worse and nobody has come. " * 80_000
    [p] = model.predict([TextInput("big", "Leak", body, "")])
    assert p.kind == "complaint" and any("only the first" in r for r in p.review_reasons)


def test_only_a_quoted_thread_is_still_classified(model) -> None:
    [p] = model.predict([TextInput("q", "", "", "On Tue, Repairs wrote:\n> We will call you on Friday about the boiler.")])
    assert p.kind in {"service_request", "other", "complaint", "compliment", "mp_enquiry"}


def test_evidence_offsets_point_into_the_new_text(model) -> None:
    new = "Just to let you know I can smell gas by the meter and my baby is here."
    [p] = model.predict([TextInput("g", "Gas", new, "")])
    gas = [e for e in p.evidence if e.rule == "hazard_gas"]
    assert gas and all(new[e.start : e.end] == e.text and e.field == "new" for e in gas)


def test_classify_reads_mail_files(tmp_path: Path) -> None:
    (tmp_path / "m.eml").write_bytes(make_email(subject="Mould", body="Black mould in the children's bedroom again."))
    code, out, _ = run("classify", str(tmp_path / "m.eml"))
    result = json.loads(out)
    assert code == 0 and result["id"] == "<leak-1@example.com>" and "damp_mould" in result["themes"]


def test_bad_jsonl_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.jsonl").write_text('{"subject": "ok", "body": "fine"}\nnot json\n')
    code, _, err = run("classify", str(tmp_path / "bad.jsonl"))
    assert code == 1 and "bad.jsonl:2: not a JSON object" in err


@pytest.fixture(scope="module")
def tiny_cascade(tiny_project: Path) -> Path:
    """A cascade (tf-idf model + sentence-encoder model, themes by the stacker as shipped) trained
    on the tiny corpus."""
    config = tiny_project / "cascade.toml"
    config.write_text(
        (tiny_project / "train.toml")
        .read_text()
        .replace('name = "tiny"', 'name = "tiny-cascade"')
        .replace("max_features = 20000\n", "max_features = 20000\ntheme_stacker = true\nstacker_iterations = 40\n")
        + '[cascade]\nencoder = "all-minilm-l6-v2"\n[cascade.gate]\nshort_words = 30\nmax_tokens = 32\n'
    )
    code, _, err = run("train", "--config", str(config), "--json")
    assert code == 0, err
    return tiny_project / "models" / "tiny-cascade"


def test_cascade_sends_short_and_uncertain_messages_to_the_encoder_model(tiny_cascade: Path) -> None:
    meta = json.loads((tiny_cascade / "model.json").read_text())
    assert meta["encoder"]["name"] == "all-minilm-l6-v2" and meta["encoder"]["licence"] == "Apache-2.0"
    assert set(meta["files"]) == {"model.pkl.zlib", "MODEL.md"} and meta["files"]["model.pkl.zlib"]["sha256"] == meta["sha256"]
    assert "Cascade and sentence encoder" in (tiny_cascade / "MODEL.md").read_text()
    model, _ = load_model(tiny_cascade)
    short = TextInput("s", "", "still waiting pls", channel="social")
    long = TextInput(
        "l",
        "Kitchen tap",
        "Please could you send someone to look at the kitchen tap, it has been dripping since the weekend and "
        "the washer seems worn. I am in most mornings this week and can be reached on the usual number. " * 2,
    )
    [p_short, p_long] = model.predict([short, long])
    assert p_short.decided_by == "encoder"  # fewer words than the gate's short_words
    assert p_long.decided_by in ("tfidf", "encoder")
    again = model.predict([short])[0]
    assert again.kind == p_short.kind  # the same message alone or in a batch: the same answer
    assert again.kind_scores == pytest.approx(p_short.kind_scores, abs=2e-4)


def test_with_the_stacker_both_models_themes_are_the_stackers_at_their_thresholds(tiny_cascade: Path) -> None:
    meta = json.loads((tiny_cascade / "model.json").read_text())
    assert meta["training"]["themes_decided_by"].startswith("boosted trees")
    assert meta["training"]["encoder_model"]["themes_decided_by"].startswith("boosted trees")
    model, _ = load_model(tiny_cascade)
    assert model.fast.stacker is not None and model.heads.stacker_ is not None and model.heads.neighbours_ is not None
    items = [
        TextInput("s", "", "mould back in the bedroom again and nobody rang me back", channel="social"),
        TextInput("l", "Rent statement", "Please send me a rent statement for the last year for my housing benefit claim. " * 4),
    ]
    from triage.labels import THEMES

    for p in model.predict(items):
        thresholds = model.heads.thresholds[1] if p.decided_by == "encoder" else model.fast.theme_thresholds
        for k, t in enumerate(THEMES):  # the scores shown are rounded to 4 places
            assert p.theme_scores[t] >= thresholds[k] - 1e-4 if t in p.themes else p.theme_scores[t] < thresholds[k] + 1e-4
    texts = [
        "still no one has come about the leak under the sink",
        "who do i complain to about the caretaker shouting at my kids",
        "bins not emptied again on Elm Court, third week",
        "thanks for sorting the boiler so quickly",
        "my rent statement is wrong, you have charged me twice",
        "the new kitchen fitters broke my tiles and left",
    ]
    batch = model.predict([TextInput(str(i), "", t, channel="social") for i, t in enumerate(texts)])
    for i, t in enumerate(texts):  # one message scores the same alone as in a batch
        [alone] = model.predict([TextInput(str(i), "", t, channel="social")])
        assert alone.themes == batch[i].themes
        assert alone.theme_scores == pytest.approx(batch[i].theme_scores, abs=2e-3)
        assert all(0.0 <= v <= 1.0 for v in alone.theme_scores.values())


def test_a_model_pickled_before_the_second_stage_reads_themes_with_its_heads(tiny_cascade: Path) -> None:
    import pickle

    import numpy as np

    from triage.classify.features import featurise
    from triage.labels import THEMES

    model, _ = load_model(tiny_cascade)
    old = pickle.loads(pickle.dumps(model))
    old.attach(model.encoder)
    for obj, name in ((old.fast, "stacker"), (old.heads, "stacker_"), (old.heads, "neighbours_")):
        del obj.__dict__[name]  # as an object pickled before these attributes existed
    old = pickle.loads(pickle.dumps(old)).attach(model.encoder)
    assert old.fast.stacker is None and old.heads.stacker_ is None
    long = [
        "The boiler has stopped again and the engineer never came back as promised last week.",
        "Please could you send me a rent statement for the last twelve months for my housing benefit claim.",
        "I want to make a formal complaint about the damp and mould in my bedroom which has been reported many times.",
        "Thank you so much to the repairs team who fixed our front door so quickly, we are really grateful.",
    ]
    items = [TextInput(str(i), "", (t + " ") * 3) for i, t in enumerate(long)]
    items.append(TextInput("s", "", "bins not emptied again", channel="social"))
    feats = list(featurise(items))
    z = old.fast.logits(feats)
    a = np.array([p[0] for p in old.fast.platt_themes])
    b = np.array([p[1] for p in old.fast.platt_themes])
    platt = 1.0 / (1.0 + np.exp(-(a * z[:, -len(THEMES) :] + b)))
    predictions = old.predict(items)
    assert {p.decided_by for p in predictions} == {"tfidf", "encoder"}  # both models' paths are read
    for i, p in enumerate(predictions):
        if p.decided_by == "tfidf":
            assert [p.theme_scores[t] for t in THEMES] == pytest.approx(platt[i], abs=1e-4)
        assert p.themes == [
            t
            for k, t in enumerate(THEMES)
            if p.theme_scores[t]
            >= (old.heads.thresholds[1] if p.decided_by == "encoder" else old.fast.theme_thresholds)[k] - 1e-4
        ]


def test_the_encoder_models_rules_a_complaint_is_dissatisfied_and_the_general_reading_only_adds(tiny_cascade: Path) -> None:
    model, _ = load_model(tiny_cascade)
    assert model.general is not None and 0 < model.general.threshold_ < 1
    items = [
        TextInput("a", "", "rang 6 times today and nobody picks up. useless", channel="social"),
        TextInput("b", "", "lovely sunny day on the estate, kids out on their bikes", channel="social"),
        TextInput("c", "", "my parcel courier lost it AGAIN, three weeks of this rubbish", channel="social"),
        TextInput("d", "", "still waiting pls", channel="social"),
    ]
    with_reading = model.predict(items)
    general, model.general = model.general, None
    try:
        without = model.predict(items)
    finally:
        model.general = general
    for a, b in zip(with_reading, without, strict=True):
        assert a.kind == b.kind and a.kind_scores == b.kind_scores  # kind is never the general reading's
        assert a.dissatisfied >= b.dissatisfied  # it only ever adds dissatisfaction
        if a.dissatisfied and not b.dissatisfied:
            assert a.status == "needs_review" and any("general reading" in r for r in a.review_reasons)
        if a.decided_by == "encoder" and a.kind == "complaint":
            assert a.dissatisfied_score >= model.gate.complaint_floor  # GUIDE 4: a complaint is dissatisfied


def test_cascade_without_its_encoder_is_refused(tiny_cascade: Path, tmp_path: Path) -> None:
    folder = tmp_path / "models" / "moved"
    shutil.copytree(tiny_cascade, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["encoder"]["sidecar_sha256"] = "0" * 64  # as if the encoder had been changed
    (folder / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match=r"sentence encoder all-minilm-l6-v2 .* was not found, or its files differ"):
        load_model(folder)


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("flip", r"model\.pkl\.zlib: refused to load: its SHA-256"),
        ("truncate", r"model\.pkl\.zlib: refused to load: .* bytes where the sidecar says"),
        ("card", r"MODEL\.md: refused to load: its SHA-256"),
        ("outside", r"lists '\.\./model\.pkl\.zlib', outside its folder"),
        ("unlisted", r"does not list model\.pkl\.zlib"),
    ],
)
def test_a_tampered_or_truncated_model_folder_is_refused_before_unpickling(
    tiny_cascade: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str, message: str
) -> None:
    from triage.classify import artefact

    folder = tmp_path / "models" / "copy"
    shutil.copytree(tiny_cascade, folder)
    model_file = folder / "model.pkl.zlib"
    data = bytearray(model_file.read_bytes())
    meta = json.loads((folder / "model.json").read_text())
    if damage == "flip":
        data[len(data) // 3] ^= 0x01
        model_file.write_bytes(bytes(data))
    elif damage == "truncate":
        model_file.write_bytes(bytes(data[: len(data) // 2]))
    elif damage == "card":  # same size, one character changed
        card = (folder / "MODEL.md").read_text()
        (folder / "MODEL.md").write_text(card.replace("Model card", "Model cord", 1))
    elif damage == "outside":
        meta["files"]["../model.pkl.zlib"] = meta["files"]["model.pkl.zlib"]
        (folder / "model.json").write_text(json.dumps(meta))
    else:
        meta["files"].pop("model.pkl.zlib")
        (folder / "model.json").write_text(json.dumps(meta))

    def never(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the model was unpickled from an unverified folder")

    monkeypatch.setattr(artefact, "_unpickle", never)
    with pytest.raises(ModelError, match=message):
        load_model(folder)
    code, _, err = run("classify", str(ROOT / "triage/sample/mailbox/01-kitchen-tap-dripping.eml"), "--model", str(folder))
    assert code == 1 and "Traceback" not in err


def test_a_model_saved_with_joblib_before_december_2026_still_loads_and_answers_the_same(
    tiny_cascade: Path, tmp_path: Path
) -> None:
    """Older versions kept by the registry are model.joblib: a rollback must still load them."""
    import joblib

    from triage.classify.artefact import LEGACY_MODEL_FILE, MODEL_FILE
    from triage.classify.integrity import file_record

    folder = tmp_path / "models" / "old"
    shutil.copytree(tiny_cascade, folder)
    model, _ = load_model(folder)
    model.encoder = None  # as pickled
    joblib.dump(model, folder / LEGACY_MODEL_FILE, compress=3)
    (folder / MODEL_FILE).unlink()
    meta = json.loads((folder / "model.json").read_text())
    meta["files"].pop(MODEL_FILE)
    meta["files"][LEGACY_MODEL_FILE] = file_record(folder / LEGACY_MODEL_FILE)
    meta["sha256"] = meta["files"][LEGACY_MODEL_FILE]["sha256"]
    (folder / "model.json").write_text(json.dumps(meta))
    items = [
        TextInput("a", "", "still waiting pls", channel="social"),
        TextInput("b", "Leak", "The kitchen tap drips, please send someone."),
    ]
    old, new = load_model(folder)[0].predict(items), load_model(tiny_cascade)[0].predict(items)
    assert [p.as_dict() for p in old] == [p.as_dict() for p in new]


def test_figures_by_file_put_the_new_voices_together_beside_each_file() -> None:
    from triage.classify.data import Example
    from triage.classify.evaluate import by_file
    from triage.classify.model import Prediction

    def example(i: int, source: str, kind: str) -> Example:
        return Example(TextInput(str(i), "", "text"), kind, kind == "complaint", [], source=f"test/{source}:{i}")

    def prediction(i: int, kind: str) -> Prediction:
        scores = {k: 0.0 for k in ("complaint", "service_request", "mp_enquiry", "compliment", "other")} | {kind: 1.0}
        return Prediction(str(i), kind, scores, kind == "complaint", 1.0, [], {}, False, "accepted", [], [])

    examples = [example(0, "a_t.jsonl", "complaint"), example(1, "b_t.jsonl", "other"), example(2, "test_a.jsonl", "other")]
    predictions = [prediction(0, "complaint"), prediction(1, "complaint"), prediction(2, "other")]
    rows = by_file(examples, predictions)
    assert set(rows) == {"a_t.jsonl", "b_t.jsonl", "test_a.jsonl", "all new voices (*_t)"}
    together = rows["all new voices (*_t)"]
    assert together["examples"] == 2 and together["complaint_recall"] == 1.0 and together["complaint_precision"] == 0.5


def test_a_model_saved_before_the_encoder_stage_rules_keeps_its_behaviour() -> None:
    import pickle

    from triage.classify.cascade import GateConfig

    old = GateConfig()
    for name in ("complaint_floor", "general_c", "general_recall", "general_known_below"):
        del old.__dict__[name]  # as a gate pickled before these settings existed
    restored = pickle.loads(pickle.dumps(old))
    assert restored.complaint_floor == 0.0 and restored.general_recall == 0.0
    assert pickle.loads(pickle.dumps(GateConfig())).complaint_floor == 0.2  # a new model keeps its own


def test_predictions_in_memory_zones_are_those_without(model, monkeypatch: pytest.MonkeyPatch) -> None:
    """``triage run`` predicts each batch in a spaCy memory zone (memory flat in the backlog):
    batches of words the model's spaCy has never seen get the same predictions, evidence and
    all, as outside any zone, and the new words are not kept."""
    from triage.classify.service import predict
    from triage.text import nlp
    from triage.text.nlp import get_nlp

    monkeypatch.setattr(nlp, "KEEP_FIRST", 0)  # zones from the first batch

    def batch(k: int) -> list[TextInput]:
        return [
            TextInput(
                f"{k}-{i}",
                f"Re: qwyx{k}r{i} repair",
                f"The qwyx{k}b{i} leak is back and nobody came. I want to make a formal complaint. Call 07700 900{i:03d}.",
                f"> qwyx{k}q{i} earlier",
            )
            for i in range(30)
        ]

    strings = get_nlp().vocab.strings
    zoned = [[p.as_dict() for p in predict(model, batch(k))] for k in range(3)]
    assert "qwyx0b0" not in strings and "qwyx2r29" not in strings
    assert zoned == [[p.as_dict() for p in model.predict(batch(k))] for k in range(3)]
