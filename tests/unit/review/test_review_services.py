"""Which part of an environment a stack belongs to: the Foundation, a service, or neither."""

from __future__ import annotations

from mlops_cdk.config.schema import REGISTRY_STACK_SUFFIX
from mlops_cdk.config.service import RESERVED_SERVICE_NAMES, SERVICE_NAME_PATTERN
from mlops_tools.review.services import (
    FOUNDATION,
    REGISTRY_SUFFIX,
    SERVICE_NAME,
    Group,
    group_stacks,
    part_of,
    stack_of_path,
)


def test_the_names_are_the_apps() -> None:
    assert REGISTRY_SUFFIX == REGISTRY_STACK_SUFFIX
    assert SERVICE_NAME.pattern == SERVICE_NAME_PATTERN.pattern
    assert FOUNDATION.lower() in RESERVED_SERVICE_NAMES  # no service is called Foundation


def test_the_part_of_a_stack_comes_from_its_name() -> None:
    assert part_of("dev", "dev-Foundation") == ("foundation", "dev-Foundation")
    assert part_of("dev", "dev-churn") == ("service", "churn")
    assert part_of("dev", "dev-churn-Registry") == ("service", "churn")
    assert part_of("dev", "dev-fraud-v2") == ("service", "fraud-v2")
    assert part_of("dev", "dev-fraud-v2-Registry") == ("service", "fraud-v2")
    # Not a service: the single-endpoint layout, another environment's stack, no prefix.
    assert part_of("dev", "dev-Serving") == ("stack", "dev-Serving")
    assert part_of("dev", "stage-churn") == ("stack", "stage-churn")
    assert part_of("dev", "churn") == ("stack", "churn")
    assert part_of("my-env", "my-env-churn") == ("service", "churn")


def test_groups_are_foundation_then_services_then_other_stacks() -> None:
    stacks = [
        "dev-fraud",
        "dev-Serving",
        "dev-churn",
        "dev-fraud-Registry",
        "dev-Foundation",
        "dev-churn-Registry",
    ]
    assert group_stacks("dev", stacks) == [
        Group(0, "dev-Foundation", "foundation", ("dev-Foundation",)),
        Group(1, "churn", "service", ("dev-churn-Registry", "dev-churn")),
        Group(1, "fraud", "service", ("dev-fraud-Registry", "dev-fraud")),
        Group(2, "dev-Serving", "stack", ("dev-Serving",)),
    ]
    labels = [group.label for group in group_stacks("dev", stacks)]
    assert labels == ["Foundation", "service `churn`", "service `fraud`", "stack `dev-Serving`"]
    assert group_stacks("dev", []) == []


def test_an_acknowledgement_belongs_to_the_stack_of_its_construct_path() -> None:
    stacks = ["dev-Foundation", "dev-churn", "dev-churn-Registry"]
    assert stack_of_path("dev", "dev/churn/Endpoint", stacks) == "dev-churn"
    assert stack_of_path("dev", "dev/churn-Registry/Repository", stacks) == "dev-churn-Registry"
    assert stack_of_path("dev", "dev/Foundation", stacks) == "dev-Foundation"
    assert stack_of_path("dev", "dev/fraud/Endpoint", stacks) is None
    assert stack_of_path("dev", "dev/churnx/Endpoint", stacks) is None
