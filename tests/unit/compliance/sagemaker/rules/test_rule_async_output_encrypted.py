"""AsyncOutputEncrypted: async results, failures, notifications encrypted, in the app's bucket."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sm
from aws_cdk import aws_sns as sns

from tests.unit.compliance.sagemaker.pack_helpers import KEY, METRICS, rules_for, stack


def _config(
    *,
    kms: bool = True,
    literal_bucket: bool = False,
    encrypted_topic: bool = True,
    asynchronous: bool = True,
) -> Any:
    s = stack()
    bucket = s3.Bucket(s, "Bucket")
    topic = sns.CfnTopic(s, "Topic", kms_master_key_id=KEY if encrypted_topic else None)
    where = "s3://somebody-elses-bucket/async" if literal_bucket else bucket.s3_url_for_object("a")
    settings = sm.CfnEndpointConfig.AsyncInferenceConfigProperty(
        output_config=sm.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
            s3_output_path=where,
            s3_failure_path=bucket.s3_url_for_object("f"),
            kms_key_id=KEY if kms else None,
            notification_config=sm.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                success_topic=topic.ref, error_topic=topic.ref
            ),
        )
    )
    sm.CfnEndpointConfig(
        s,
        "Config",
        kms_key_id=KEY,
        metrics_config=METRICS,
        production_variants=[
            sm.CfnEndpointConfig.ProductionVariantProperty(
                variant_name="v", model_name="m", instance_type="ml.m5.large",
                initial_instance_count=2,
            )
        ],
        async_inference_config=settings if asynchronous else None,
    )  # fmt: skip
    return s


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, set()),
        ({"kms": False}, {"AsyncOutputEncrypted"}),
        ({"literal_bucket": True}, {"AsyncOutputEncrypted"}),
        ({"encrypted_topic": False}, {"AsyncOutputEncrypted"}),
        ({"asynchronous": False}, set()),
    ],
)
def test_async_output_encrypted(kwargs: dict[str, Any], expected: set[str]) -> None:
    s = _config(**kwargs)
    assert rules_for(s, "S/Config") == expected
