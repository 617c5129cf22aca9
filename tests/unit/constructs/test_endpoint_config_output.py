"""WeightedEndpoint's output ``EndpointConfigName``: the endpoint configuration the stack
deployed, under a fixed logical id the smoke test reads (mlops_tools/smoke.py)."""

from __future__ import annotations

from aws_cdk.assertions import Template

from mlops_cdk.constructs import WeightedEndpoint
from mlops_cdk.constructs.endpoint import ENDPOINT_CONFIG_OUTPUT
from mlops_tools import smoke
from tests.helpers import new_stack
from tests.unit.constructs.variant_helpers import on_instances

VARIANTS = [on_instances("main", "model", 1, "ml.m5.large", 1)]
MODELS = {"model": "model"}


def test_output_names_the_endpoint_config_under_a_fixed_logical_id() -> None:
    stack = new_stack()
    endpoint = WeightedEndpoint(
        stack, "Endpoint", endpoint_name="churn", variants=VARIANTS, models=MODELS
    )
    outputs = Template.from_stack(stack).to_json()["Outputs"]
    config_id = stack.get_logical_id(endpoint.endpoint_config)
    assert outputs[ENDPOINT_CONFIG_OUTPUT]["Value"] == {
        "Fn::GetAtt": [config_id, "EndpointConfigName"]
    }
    assert "Export" not in outputs[ENDPOINT_CONFIG_OUTPUT]  # an export could not change
    assert stack.resolve(endpoint.endpoint_config_output.logical_id) == ENDPOINT_CONFIG_OUTPUT


def test_the_smoke_test_reads_the_same_output_key() -> None:
    assert smoke.ENDPOINT_CONFIG_OUTPUT == ENDPOINT_CONFIG_OUTPUT


def test_a_second_endpoint_in_the_stack_keeps_a_generated_id() -> None:
    stack = new_stack()
    first = WeightedEndpoint(stack, "First", endpoint_name="a", variants=VARIANTS, models=MODELS)
    second = WeightedEndpoint(stack, "Second", endpoint_name="b", variants=VARIANTS, models=MODELS)
    outputs = Template.from_stack(stack).to_json()["Outputs"]
    second_id = stack.resolve(second.endpoint_config_output.logical_id)
    assert second_id != ENDPOINT_CONFIG_OUTPUT
    assert outputs[ENDPOINT_CONFIG_OUTPUT]["Value"] == {
        "Fn::GetAtt": [stack.get_logical_id(first.endpoint_config), "EndpointConfigName"]
    }
    assert outputs[second_id]["Value"] == {
        "Fn::GetAtt": [stack.get_logical_id(second.endpoint_config), "EndpointConfigName"]
    }
