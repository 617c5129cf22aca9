"""``make baseline`` (scripts/baseline.py): the baseline it writes, the publish command, and one
clear line with exit code 2 for each bad input."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import drift_stats as ds
import pytest

from tests.helpers import CONFIG_DIR, ROOT

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TRAIN = "tenure,charges,plan,zip,churned\n" + "".join(
    f"{i % 40},{50 + (i * 7) % 30}.5,{['basic', 'pro', 'family'][i % 3]},{10000 + i % 5},{i % 2}\n"
    for i in range(300)
)


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "baseline_script", ROOT / "scripts" / "baseline.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["baseline_script"] = module
    spec.loader.exec_module(module)
    return module


script = load_script()


def run(tmp_path: Path, *args: str) -> int:
    return int(script.main(["--out", str(tmp_path / "out" / "baseline.json"), *args], now=NOW))


@pytest.fixture
def train(tmp_path: Path) -> Path:
    path = tmp_path / "train.csv"
    path.write_text(TRAIN, encoding="utf-8")
    return path


def test_writes_a_valid_baseline_and_prints_the_publish_command(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(
        tmp_path,
        "--service", "churn", "--data", str(train), "--exclude", "churned",
        "--categorical", "zip", "--bucket", "my-bucket",
    )  # fmt: skip
    assert code == 0
    document = json.loads((tmp_path / "out" / "baseline.json").read_text())
    baseline = ds.parse_baseline(document)
    assert baseline.columns == ("tenure", "charges", "plan", "zip")
    assert baseline.row_count == 300
    assert baseline.created == "2026-05-01T12:00:00+00:00"
    assert baseline.source == "train.csv"
    assert baseline.source_sha256 == hashlib.sha256(TRAIN.encode()).hexdigest()
    kinds = {name: ref.kind for name, ref in baseline.features.items()}
    assert kinds == {"tenure": "numeric", "charges": "numeric", "plan": "categorical",
                     "zip": "categorical"}  # fmt: skip
    plan = baseline.features["plan"]
    assert isinstance(plan, ds.CategoricalReference)
    assert plan.frequencies == pytest.approx({"basic": 1 / 3, "family": 1 / 3, "pro": 1 / 3})
    out = capsys.readouterr().out
    expected = (
        f"aws s3 cp {tmp_path}/out/baseline.json s3://my-bucket/baselines/churn/baseline.json"
    )
    assert expected in out


def test_publish_command_reads_the_foundation_output() -> None:
    command = script.publish_command(Path("b.json"), "baselines/churn/baseline.json", "dev", None)
    assert command == (
        'aws s3 cp b.json "s3://$(aws cloudformation describe-stacks --stack-name dev-Foundation '
        "--query \"Stacks[0].Outputs[?OutputKey=='ModelArtifactBucketName'].OutputValue\" "
        '--output text)/baselines/churn/baseline.json"'
    )
    placeholder = script.publish_command(Path("b.json"), "baselines/x/baseline.json", None, None)
    assert "<bucket: the <env>-Foundation output ModelArtifactBucketName>" in placeholder


def test_features_default_to_the_service_config(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    text = (CONFIG_DIR / "stage.yaml").read_text()
    drift = "      content_type: application/json\n      retrain: true\n"
    assert text.count(drift) == 1
    text = text.replace(drift, f"{drift}      features: [plan, tenure]\n")
    (config_dir / "stage.yaml").write_text(text)
    code = run(tmp_path, "--service", "fraud", "--data", str(train), "--env", "stage",
               "--config-dir", str(config_dir), "--exclude", "churned")  # fmt: skip
    assert code == 0
    document = json.loads((tmp_path / "out" / "baseline.json").read_text())
    assert set(document["features"]) == {"plan", "tenure"}
    assert "--stack-name stage-Foundation" in capsys.readouterr().out


BAD_FILES = {
    "missing": (None, "no such file"),
    "empty": (b"", "the file is empty"),
    "blank lines only": (b"\n\n", "the file is empty"),
    "no header": (b"1,2,3\n4,5,6\n", "the file needs a header line"),
    "header only": (b"a,b,c\n", "only a header line"),
    "duplicate header": (b"a,a\n1,2\n", "distinct, non-empty column names"),
    "not UTF-8": (b"a,b\n1,\xe9\n", "train.csv:2: the file is not UTF-8 (byte 0xe9)"),
    "UTF-16": ("a,b\n1,2\n".encode("utf-16"), "UTF-16 encoded"),
    "ragged row": (b"a,b\n1,2\n3\n", "train.csv:3: 1 values, the header has 2 columns"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    content, message = BAD_FILES[case]
    path = tmp_path / "train.csv"
    if content is not None:
        path.write_bytes(content)
    assert run(tmp_path, "--service", "churn", "--data", str(path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("baseline: "), err
    assert message in err, err
    assert not (tmp_path / "out" / "baseline.json").exists()


def test_directory_is_not_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "--service", "churn", "--data", str(tmp_path)) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--features", "tenure,age"], "--features: unknown feature 'age'"),
        (["--exclude", "label"], "--exclude: unknown feature 'label'"),
        (["--categorical", "zipcode"], "--categorical: unknown feature 'zipcode'"),
        (["--exclude", "churned", "--features", "churned"], "--features: unknown feature"),
        (["--exclude", "tenure,charges,plan,zip,churned"], "leaves no payload column"),
        (["--bins", "1"], "--bins: 1 is not between 2 and 100"),
    ],
)
def test_bad_options(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(tmp_path, "--service", "churn", "--data", str(train), *args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert message in err, err


def test_bad_service_name(tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, "--service", "Churn_1", "--data", str(train)) == 2
    assert "is not a service name" in capsys.readouterr().err


def test_unknown_service_of_the_environment(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(tmp_path, "--service", "recs", "--data", str(train), "--env", "stage",
               "--config-dir", str(CONFIG_DIR))  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "'recs' is not a service of" in err
    assert "churn, fraud" in err


def test_the_service_is_checked_when_the_features_are_given_too(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(tmp_path, "--service", "recs", "--data", str(train), "--env", "stage",
               "--config-dir", str(CONFIG_DIR), "--features", "tenure")  # fmt: skip
    assert code == 2
    assert "'recs' is not a service of" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_an_unknown_environment_is_the_loaders_line(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(tmp_path, "--service", "churn", "--data", str(train), "--env", "prdo",
               "--config-dir", str(CONFIG_DIR))  # fmt: skip
    assert code == 2
    assert capsys.readouterr().err == (
        "baseline: ENV: unknown environment 'prdo'; known environments: dev, stage, prod\n"
    )
