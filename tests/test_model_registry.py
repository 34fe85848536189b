"""Model versions: a retrained model is a challenger, compared with the live one on dev, test and
held-back staff reviews, promoted only when no worse, and rolled back on demand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.classify import registry
from triage.classify.artefact import sha256_file
from triage.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def _corpus(root: Path, take: dict[str, int]) -> None:
    for split, n in take.items():
        (root / "data" / split).mkdir(parents=True, exist_ok=True)
        for path in sorted((ROOT / "training_data" / split).glob("*.jsonl")):
            lines = path.read_text(encoding="utf-8").splitlines()[:n]
            (root / "data" / split / path.name).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    _corpus(tmp_path, {"train": 60, "dev": 15, "test": 20})
    (tmp_path / "train.toml").write_text(
        '[data]\nroot = "data"\n[model]\nname = "tiny"\noutput = "models"\n[params]\nfolds = 3\nmax_features = 20000\n'
    )
    return tmp_path


def test_held_back_reviews_are_a_fixed_quarter_by_id() -> None:
    ids = [f"rev-{n}" for n in range(2000)]
    kept = [i for i in ids if registry.held_back(i)]
    assert 0.2 < len(kept) / len(ids) < 0.3
    assert kept == [i for i in ids if registry.held_back(i)]  # the same every run


def test_retrain_is_a_challenger_then_promote_and_rollback(project: Path) -> None:
    config = str(project / "train.toml")
    live = project / "models" / "tiny"
    assert run("train", "--config", config, "--json")[0] == 0
    first_sha = sha256_file(live / "model.pkl.zlib")

    # more data: the retrained model is kept beside the live one, which does not change
    _corpus(project, {"train": 90})
    code, out, err = run("train", "--config", config)
    assert code == 0, err
    assert "Challenger written to" in out and sha256_file(live / "model.pkl.zlib") == first_sha
    code, out, _ = run("model", "list", "--config", config, "--json")
    versions = json.loads(out)
    assert [v["live"] for v in versions].count(True) == 1 and len(versions) == 2
    challenger = next(v for v in versions if not v["live"])["version"]

    code, out, _ = run("model", "compare", challenger, "--config", config, "--json")
    comparison = json.loads(out)
    assert set(comparison["figures"]) == {"dev", "test"}
    assert set(comparison["figures"]["dev"]) == set(registry.HEADLINE)
    assert code == (0 if comparison["no_worse"] else 1)

    # a huge tolerance makes it no worse by definition; promote swaps the live folder whole
    code, out, err = run("model", "promote", challenger, "--config", config, "--tolerance", "1")
    assert code == 0, err
    assert sha256_file(live / "model.pkl.zlib") != first_sha
    promoted = json.loads((live / "model.json").read_text())
    assert promoted["sha256"] == sha256_file(live / "model.pkl.zlib")
    assert promoted["name"] == "tiny" and (live / "MODEL.md").read_text().startswith("# Model card: tiny\n")
    history = registry.history(live)
    assert history[-1]["action"] == "promote" and history[-1]["version"] == challenger

    code, out, err = run("model", "rollback", "--config", config)
    assert code == 0, err
    assert sha256_file(live / "model.pkl.zlib") == first_sha
    code, out, _ = run("model", "list", "--config", config)
    live_rows = [line for line in out.splitlines() if line.startswith("* 2")]
    assert len(live_rows) == 1 and first_sha[:12] in live_rows[0]

    # a worse challenger (trained on a sliver of the data) is refused unless forced
    _corpus(project, {"train": 8})
    assert run("train", "--config", config)[0] == 0
    code, out, err = run("model", "promote", "--config", config)
    assert code != 0
    assert "stays a challenger" in err and "--force" in err
    assert sha256_file(live / "model.pkl.zlib") == first_sha
    code, out, err = run("model", "promote", "--config", config, "--force")
    assert code == 0, err
    assert registry.history(live)[-1]["forced"] is True

    code, _, err = run("model", "compare", "nope", "--config", config)
    assert code != 0 and "not a kept version" in err and "triage model list" in err


def test_rollback_with_no_promotion_says_so(project: Path) -> None:
    config = str(project / "train.toml")
    assert run("train", "--config", config)[0] == 0
    code, _, err = run("model", "rollback", "--config", config)
    assert code != 0 and "nothing to roll back to" in err
