"""Images AWS provides: the committed table stays the SageMaker Python SDK's image URI
configuration (verbatim but for shared registry maps, checked by sha256), its regions are regions
we know, and each image resolves offline to the region's registry account and URI; what cannot
be resolved is one line naming the field, with close matches."""

from __future__ import annotations

import json
import re

import pytest

from mlops_cdk.aws import images
from mlops_cdk.aws.images import derive
from mlops_cdk.aws.regions import REGIONS
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.model import AwsImageSpec, ContainerSpec, containers_problems


def test_table_is_the_sdk_inference_scopes_it_records() -> None:
    """Expanding each framework gives back the SDK file's inference scope: its sha256 is the one
    recorded when the table was derived (a hand edit of the table fails here)."""
    table = images.table()
    assert table["source"]["package"] == "sagemaker"
    assert re.fullmatch(r"\d+\.\d+\.\d+", table["source"]["version"])
    assert set(table["frameworks"]) == set(derive.FRAMEWORKS)
    for framework, scope in table["frameworks"].items():
        recorded = table["source"]["files"][framework]
        assert recorded["path"] == f"sagemaker/image_uri_config/{framework}.json"
        assert re.fullmatch(r"[0-9a-f]{64}", recorded["file_sha256"])
        expanded = derive.expand(scope, table["registries"])
        assert derive.sha256(derive.canonical(expanded)) == recorded["inference_sha256"]


def test_deriving_from_the_expanded_scopes_gives_the_committed_table() -> None:
    """The derivation is deterministic: the committed table is what ``derive`` writes."""
    table = images.table()
    sources = {
        framework: json.dumps({"inference": derive.expand(scope, table["registries"])}).encode()
        for framework, scope in table["frameworks"].items()
    }
    again = derive.derive(sources, table["source"]["version"])
    assert again["frameworks"] == table["frameworks"]
    assert again["registries"] == table["registries"]


def test_registries_are_known_regions_and_accounts() -> None:
    for registry in images.table()["registries"].values():
        assert set(registry) <= REGIONS, set(registry) - REGIONS
        assert all(re.fullmatch(r"\d{12}", account) for account in registry.values())
    assert "141502667606" in images.registry_accounts()  # XGBoost, eu-west-1
    assert "763104351884" in images.registry_accounts()  # Deep Learning Containers


@pytest.mark.parametrize(
    ("framework", "version", "region", "options", "uri"),
    [
        # "Docker Registry Paths and Example Code", eu-west-1: XGBoost in 141502667606.
        (
            "xgboost",
            "1.7-1",
            "eu-west-1",
            {},
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        ),
        (
            "linear-learner",
            "1",
            "us-east-1",
            {},
            "382416733822.dkr.ecr.us-east-1.amazonaws.com/linear-learner:1",
        ),
        (
            "sklearn",
            "1.2-1",
            "eu-west-1",
            {},
            "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        ),
        (
            "pytorch",
            "2.6.0",
            "eu-west-1",
            {"processor": "cpu"},
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312",
        ),
        (
            "huggingface",
            "4.51.3",
            "eu-west-1",
            {"processor": "gpu", "base_framework": "pytorch2.6.0"},
            "763104351884.dkr.ecr.eu-west-1.amazonaws.com/huggingface-pytorch-inference:"
            "2.6.0-transformers4.51.3-gpu-py312-cu124-ubuntu22.04",
        ),
        (
            "xgboost",
            "1.7-1",
            "cn-north-1",
            {},
            "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1",
        ),
    ],
)
def test_resolves_offline(
    framework: str, version: str, region: str, options: dict[str, str], uri: str
) -> None:
    assert images.resolve(framework, version, region, **options).uri == uri


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        (
            {"framework": "xgbost", "version": "1.7-1"},
            "framework: 'xgbost' is not an image AWS provides (did you mean xgboost?)",
        ),
        (
            {"framework": "xgboost", "version": "1.7"},
            "version: xgboost has no inference image '1.7' (did you mean 1.7-1",
        ),
        (
            {"framework": "pytorch", "version": "2.6"},
            "version: '2.6' is an alias of pytorch 2.6.0: pin the version '2.6.0'",
        ),
        ({"framework": "pytorch", "version": "2.6.0"}, "processor: required: one of cpu, gpu"),
        (
            {"framework": "xgboost", "version": "1.7-1", "processor": "gpu"},
            "processor: this image has none: remove it",
        ),
        (
            {"framework": "xgboost", "version": "1.7-1", "base_framework": "pytorch2.6.0"},
            "base_framework: only Hugging Face",
        ),
    ],
)
def test_unresolvable_settings_are_one_line_naming_the_field(
    settings: dict[str, str], line: str
) -> None:
    with pytest.raises(PropProblems) as excinfo:
        AwsImageSpec(**settings)  # type: ignore[arg-type]
    assert str(excinfo.value).startswith(f"aws image: {line}")
    assert "\n" not in str(excinfo.value)


def test_unknown_region_suggests_close_ones() -> None:
    spec = AwsImageSpec(framework="xgboost", version="1.7-1")
    assert spec.region_problem("eu-westt-1") == (
        "xgboost 1.7-1 is not published in eu-westt-1 (did you mean eu-west-1, us-west-1, "
        "eu-west-3?)"
    )
    assert spec.region_problem("eu-west-1") is None


def test_container_needs_exactly_one_image_and_valid_fields() -> None:
    with pytest.raises(PropProblems) as excinfo:
        ContainerSpec(
            image_tag="latest",
            aws_image=AwsImageSpec(framework="xgboost", version="1.7-1"),
            model_data_key="/abs/model.zip",
            hostname="-bad",
        )
    fields = [path for path, _ in excinfo.value.problems]
    assert fields == ["image_tag", "model_data_key", "image_tag", "hostname"]
    assert "'latest' does not pin" in str(excinfo.value)


def test_containers_are_two_to_fifteen_with_unique_hostnames_for_direct() -> None:
    one = ContainerSpec(image_tag="1.0.0")
    assert containers_problems([one], "serial")[0][0] == "containers"
    assert containers_problems([one] * 16, None)[0][1].startswith("16 containers")
    assert containers_problems([one, one], None) == []
    assert containers_problems([one, ContainerSpec(image_tag="2", hostname="b")], "direct") == [
        ("containers[0].hostname", "required for direct invocation")
    ]
    named = ContainerSpec(image_tag="1", hostname="a")
    assert containers_problems([named, named], "direct") == [
        ("containers[1].hostname", "duplicate hostname 'a'")
    ]


def _repositories(node: object) -> set[str]:
    if isinstance(node, dict):
        found = {node["repository"]} if isinstance(node.get("repository"), str) else set()
        return found.union(*(_repositories(v) for k, v in node.items() if k != "repository"))
    return set()


def test_every_repository_of_the_table_is_classified_for_training() -> None:
    """A new repository in the table fails here until someone decides whether a training job
    can run on it (training steps refuse inference-only images)."""
    trains = {
        "linear-learner",
        "sagemaker-pytorch",
        "sagemaker-scikit-learn",
        "sagemaker-tensorflow",
        "sagemaker-xgboost",
        "xgboost",
    }
    inference_only = {
        "huggingface-pytorch-inference",
        "huggingface-tensorflow-inference",
        "pytorch-inference",
        "sagemaker-tensorflow-serving",  # TensorFlow Serving
        "tensorflow-inference",
    }
    repositories = _repositories(images.table()["frameworks"])
    assert repositories == trains | inference_only
    assert {r for r in repositories if images.serves_training(r)} == trains
