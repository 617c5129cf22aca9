"""``make baseline`` (scripts/baseline.py): the baseline it writes, the publish command, and one
clear line with exit code 2 for each bad input."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
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


def stage_config(tmp_path: Path, features: str) -> Path:
    """A copy of the fixture config/ whose stage fraud service configures drift ``features``."""
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    text = (CONFIG_DIR / "stage.yaml").read_text()
    drift = "      content_type: application/json\n      retrain: true\n"
    assert text.count(drift) == 1
    (config_dir / "stage.yaml").write_text(
        text.replace(drift, f"{drift}      features: [{features}]\n")
    )
    return config_dir


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("baseline: "), err
    return err


def test_features_that_leave_out_configured_ones_are_refused(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = stage_config(tmp_path, "plan, tenure, charges")
    code = run(tmp_path, "--service", "fraud", "--data", str(train), "--env", "stage",
               "--config-dir", str(config_dir), "--features", "plan,zip")  # fmt: skip
    assert code == 2
    err = one_line_error(capsys)
    assert "--features: leaves out tenure, charges" in err, err
    assert "stage.yaml: services.fraud.drift.features" in err, err
    assert not (tmp_path / "out").exists()


def test_features_that_cover_the_configured_ones_are_kept(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = stage_config(tmp_path, "plan")
    code = run(tmp_path, "--service", "fraud", "--data", str(train), "--env", "stage",
               "--config-dir", str(config_dir), "--features", "plan,zip")  # fmt: skip
    assert code == 0, capsys.readouterr().err
    document = json.loads((tmp_path / "out" / "baseline.json").read_text())
    assert set(document["features"]) == {"plan", "zip"}


def test_an_unknown_configured_feature_names_the_config_file(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_dir = stage_config(tmp_path, "plan, monthly_charges")
    code = run(tmp_path, "--service", "fraud", "--data", str(train), "--env", "stage",
               "--config-dir", str(config_dir))  # fmt: skip
    assert code == 2
    err = one_line_error(capsys)
    assert "stage.yaml: services.fraud.drift.features: unknown feature 'monthly_charges'" in err
    assert "--features" not in err, err


@pytest.mark.parametrize(
    "args",
    [
        ["--features", "plan", "--categorical", "tenure"],
        ["--features", "plan,charges", "--categorical", "charges,zip"],
    ],
)
def test_categorical_outside_the_features_is_refused(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    assert run(tmp_path, "--service", "churn", "--data", str(train), *args) == 2
    err = one_line_error(capsys)
    assert "--categorical: " in err, err
    assert "is not among the features" in err, err
    assert not (tmp_path / "out").exists()


# A stray quote on line 2: the field runs on to the csv module's field size limit.
STRAY_QUOTE = b"a,b,c,d\n" + b'1,"a,10,0\n' + b"2,b,20,1\n" * 20_000
LINE_NUMBERS = {
    # Blank lines are lines: the ragged row is line 5 of the file, the third record.
    "blank lines": (b"a,b\n\n1,2\n\n3\n", "train.csv:5: 1 values, the header has 2 columns"),
    # A quoted value over two lines: the ragged row starts on line 4.
    "multi-line value": (b'a,b\n"x\ny",2\n3\n', "train.csv:4: 1 values, the header has 2 columns"),
    "a header after blank lines": (b"\n\n1,2\n", "train.csv:3: the first line is all numbers"),
    "stray quote": (STRAY_QUOTE, "train.csv:2: "),
}


@pytest.mark.parametrize("case", sorted(LINE_NUMBERS))
def test_errors_name_the_line_of_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    content, message = LINE_NUMBERS[case]
    path = tmp_path / "train.csv"
    path.write_bytes(content)
    assert run(tmp_path, "--service", "churn", "--data", str(path)) == 2
    err = one_line_error(capsys)
    assert message in err, err
    if case == "stray quote":
        assert "unterminated quote?" in err, err


def test_a_multi_line_value_is_one_category(tmp_path: Path) -> None:
    path = tmp_path / "train.csv"
    path.write_bytes(b'a,b\r\n"x\r\ny",1\r\n"x\r\ny",2\r\n')
    assert run(tmp_path, "--service", "churn", "--data", str(path)) == 0
    document = json.loads((tmp_path / "out" / "baseline.json").read_text())
    reference = ds.parse_baseline(document).features["a"]
    assert isinstance(reference, ds.CategoricalReference)
    assert list(reference.frequencies) == ["x\r\ny"]


def test_out_is_not_the_data_file(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    link = tmp_path / "link.csv"
    link.symlink_to(train)
    for out in (train, tmp_path / "." / "train.csv", link):
        code = script.main(["--service", "churn", "--data", str(train), "--out", str(out)])
        assert code == 2
        err = one_line_error(capsys)
        assert f"--out: {out} is the data file" in err, err
        assert train.read_text() == TRAIN


def test_out_is_not_a_folder(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    code = script.main(["--service", "churn", "--data", str(train), "--out", str(folder)])
    assert code == 2
    assert f"--out: {folder} is a folder" in one_line_error(capsys)
    assert list(folder.iterdir()) == []


def test_out_under_a_file_is_one_line(
    tmp_path: Path, train: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = train / "b.json"
    code = script.main(["--service", "churn", "--data", str(train), "--out", str(out)])
    assert code == 2
    assert f"--out: {train} is a file, not a folder" in one_line_error(capsys)
    assert train.read_text() == TRAIN


@pytest.mark.slow  # a subprocess, to limit its file size
def test_a_failed_write_leaves_the_earlier_baseline(tmp_path: Path, train: Path) -> None:
    """The file size limit (RLIMIT_FSIZE) stops the write half-way, as a full disk would."""
    out = tmp_path / "out" / "baseline.json"
    out.parent.mkdir()
    out.write_text("earlier\n")
    limited = (
        "import resource, runpy, signal, sys\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", limited, str(ROOT / "scripts" / "baseline.py"),
         "--service", "churn", "--data", str(train), "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"baseline: --out: cannot write {out}: File too large\n"
    assert out.read_text() == "earlier\n"
    assert sorted(p.name for p in out.parent.iterdir()) == ["baseline.json"]
