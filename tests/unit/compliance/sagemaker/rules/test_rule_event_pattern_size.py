"""EventPatternSize: PutRule refuses an event pattern over 4,096 characters; references count
at the longest they can resolve to."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import botocore
import pytest
from aws_cdk import aws_events as events
from aws_cdk import aws_sagemaker as sm

from mlops_cdk.aws.facts import EVENT_PATTERN_MAX_CHARS
from tests.unit.compliance.sagemaker.pack_helpers import ROLE, fires, stage_stack

RULE = "EventPatternSize"
# The pattern CfnRule renders around one detail value, as compact JSON.
_FRAME = '{"detail":{"name":[""]},"source":["aws.sagemaker"]}'


def test_the_limit_is_botocores() -> None:
    models = Path(botocore.__file__).parent / "data" / "events"
    [path] = sorted(models.glob("2015-10-07/service-2.json*"))
    text = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    assert json.loads(text)["shapes"]["EventPattern"]["max"] == EVENT_PATTERN_MAX_CHARS


@pytest.mark.parametrize(("length", "expected"), [(4096, False), (4097, True)])
def test_a_literal_pattern_over_4096_characters(length: int, expected: bool) -> None:
    s = stage_stack()
    name = "x" * (length - len(_FRAME))
    events.CfnRule(
        s, "Rule", event_pattern={"source": ["aws.sagemaker"], "detail": {"name": [name]}}
    )
    assert fires(s, "prod/S/Rule", RULE) is expected


# A model of stack prod-S named by CloudFormation: prod-S-ModelNNN-<13 characters>, 29
# characters, 32 quoted in a list (the last 31), in a pattern of 54 more: 126 fit, 127 do not.
_LIST_FRAME = '{"detail":{"modelName":[]},"source":["aws.sagemaker"]}'
_MOST_MODELS = (EVENT_PATTERN_MAX_CHARS - len(_LIST_FRAME) + 1) // 32


@pytest.mark.parametrize(("models", "expected"), [(_MOST_MODELS, False), (_MOST_MODELS + 1, True)])
def test_names_count_as_long_as_they_can_resolve(models: int, expected: bool) -> None:
    s = stage_stack()
    names = [
        sm.CfnModel(s, f"Model{i:03d}", execution_role_arn=ROLE).attr_model_name
        for i in range(models)
    ]
    events.CfnRule(
        s, "Rule", event_pattern={"source": ["aws.sagemaker"], "detail": {"modelName": names}}
    )
    assert fires(s, "prod/S/Rule", RULE) is expected


def test_a_scheduled_rule_has_no_pattern() -> None:
    s = stage_stack()
    events.CfnRule(s, "Rule", schedule_expression="rate(1 day)")
    assert fires(s, "prod/S/Rule", RULE) is False
