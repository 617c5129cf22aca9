"""Preflight of a service hosting its models as inference components: each component's model
image and data are checked, and the lines name the component (moto-backed ECR and S3; Lambda
GetAccountSettings, which moto does not implement, from a botocore Stubber)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from mlops_cdk.config import EnvConfig, load_environments
from mlops_cdk.config.service import ServiceConfig
from mlops_tools import preflight
from tests.helpers import yaml_text

REGION = "eu-west-1"
ACCOUNT = "111111111111"
BUCKET = "dev-artifacts"
REPOSITORY = "dev-ranking-images"
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def ranking_data(*, shared_model: bool = False) -> dict[str, Any]:
    """Two models as components on a shared fleet (the committed dev ``ranking`` shape), plus a
    model only a batch job uses; with ``shared_model`` both components host ranking-v1."""
    component = {"cpu_cores": 1, "memory_mb": 2048}
    return {
        "models": [
            {
                "name": name,
                "image_tag": "1.0.0",
                "model_data_key": f"models/ranking/1.0.0/{name}.tar.gz",
            }
            for name in ("ranking-v1", "reranker-v1", "spare-v1")
            if not (shared_model and name == "reranker-v1")  # a model nothing uses is refused
        ],
        "inference_components": {
            "fleet": {
                "instance_type": "ml.m5.xlarge",
                "initial_instance_count": 1,
                "managed_scaling": {"min_instance_count": 0, "max_instance_count": 2},
            },
            "components": [
                {"name": "ranker", "model": "ranking-v1", **component},
                {
                    "name": "reranker",
                    "model": "ranking-v1" if shared_model else "reranker-v1",
                    **component,
                },
            ],
        },
        "batch_jobs": [
            {
                "name": "nightly",
                "model": "spare-v1",
                "instance_type": "ml.m5.large",
                "content_type": "text/csv",
            }
        ],
    }


def ranking(*, shared_model: bool = False) -> ServiceConfig:
    return ServiceConfig.model_validate(ranking_data(shared_model=shared_model))


def test_each_components_model_is_named_with_its_component() -> None:
    parts = preflight.hosted_parts(ranking())
    assert [(p.name, p.image_tag, p.model_data_key) for p in parts] == [
        ("ranking-v1 (component ranker)", "1.0.0", "models/ranking/1.0.0/ranking-v1.tar.gz"),
        ("reranker-v1 (component reranker)", "1.0.0", "models/ranking/1.0.0/reranker-v1.tar.gz"),
        ("spare-v1", "1.0.0", "models/ranking/1.0.0/spare-v1.tar.gz"),
    ]


def test_a_model_two_components_host_is_checked_once_naming_both() -> None:
    names = [p.name for p in preflight.hosted_parts(ranking(shared_model=True))]
    assert names == ["ranking-v1 (components ranker, reranker)", "spare-v1"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def push_image(tag: str) -> None:
    ecr = boto3.client("ecr", region_name=REGION)
    ecr.create_repository(repositoryName=REPOSITORY)
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 7023,
            "digest": "sha256:" + "a" * 64,
        },
        "layers": [],
    }
    ecr.put_image(repositoryName=REPOSITORY, imageManifest=json.dumps(manifest), imageTag=tag)


def lambda_client() -> Any:
    client = boto3.client("lambda", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_response(
        "get_account_settings",
        {"AccountLimit": {"ConcurrentExecutions": 1000, "UnreservedConcurrentExecutions": 1000}},
    )
    stubber.activate()
    return client


@pytest.mark.usefixtures("aws")
def test_run_checks_each_components_image_and_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push_image("1.0.0")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    for name in ("ranking-v1", "spare-v1"):  # reranker-v1's archive is not published
        s3.put_object(Bucket=BUCKET, Key=f"models/ranking/1.0.0/{name}.tar.gz", Body=b"tar")
    config = preflight_config(tmp_path)
    clients = preflight.Clients(
        boto3.client("cloudformation", region_name=REGION),
        boto3.client("ecr", region_name=REGION),
        s3,
        lambda_client(),
        boto3.client("sagemaker", region_name=REGION),
        boto3.client("ce", region_name=REGION),
    )
    results = preflight.run(
        config, clients, bucket=BUCKET, repository=REPOSITORY, service="ranking"
    )
    lines = [r.line() for r in results]
    image = f"{HOST}/{REPOSITORY}:1.0.0"
    data = f"s3://{BUCKET}/models/ranking/1.0.0"
    assert lines[:6] == [
        f"PASS ranking image ranking-v1 (component ranker): {image}",
        f"PASS ranking model-data ranking-v1 (component ranker): {data}/ranking-v1.tar.gz",
        f"PASS ranking image reranker-v1 (component reranker): {image}",
        f"FAIL ranking model-data reranker-v1 (component reranker): {data}/reranker-v1.tar.gz "
        "not found; publish it once with: aws s3api put-object --if-none-match '*' --bucket "
        f"{BUCKET} --key models/ranking/1.0.0/reranker-v1.tar.gz --body <local model.tar.gz>",
        f"PASS ranking image spare-v1: {image}",
        f"PASS ranking model-data spare-v1: {data}/spare-v1.tar.gz",
    ]
    assert capsys.readouterr().out.splitlines()[:6] == lines[:6]


def preflight_config(tmp_path: Path) -> EnvConfig:
    """Environment ``dev`` with the ranking service, read as preflight reads it."""
    data = {
        "account": ACCOUNT,
        "region": REGION,
        "removal_policy": "destroy",
        "log_retention_days": 14,
        "network": {"new_vpc": {"cidr": "10.20.0.0/16"}},
        "publishers": [f"arn:aws:iam::{ACCOUNT}:role/publisher"],
        "monitoring": {"alarm_emails": ["ml-alerts@example.com"]},  # components alarm
        "services": {"ranking": ranking_data()},
    }
    (tmp_path / "dev.yaml").write_text(yaml_text(data), encoding="utf-8")
    [config] = load_environments(tmp_path, only="dev")
    return config
