"""A library user who passes a value of the wrong type to a props dataclass gets one line naming
the class and the field (mlops_cdk.props.fields.checked_types), never a TypeError from a bound
or a check. The configuration's path is unchanged: pydantic converts or refuses each value
before the props see it."""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

import mlops_cdk.props
from mlops_cdk.config import load_environments
from mlops_cdk.constructs.function import AsyncInvocation
from mlops_cdk.constructs.retraining_pipeline import PipelineImages
from mlops_cdk.props.async_inference import AsyncScaling
from mlops_cdk.props.batch import BatchJobSpec
from mlops_cdk.props.endpoint import DeploymentSpec
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.inference_components import InferenceComponentSpec
from mlops_cdk.props.retraining_pipeline import TrainingSpec
from mlops_cdk.props.scaling import InstanceAutoscaling
from mlops_cdk.props.variants import InstanceCapacity, ServerlessCapacity, VariantSpec

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# A value no field declares: every field must refuse it.
NOTHING_DECLARED = object()
# One value of each kind a caller might pass by mistake.
WRONG: tuple[Any, ...] = ("x", 7, 2.5, True, [], {}, None, NOTHING_DECLARED, ("ml.m5.large", 5))


def props_classes() -> set[type[Any]]:
    classes: set[type[Any]] = set()
    for module in pkgutil.iter_modules(mlops_cdk.props.__path__):
        namespace = vars(importlib.import_module(f"mlops_cdk.props.{module.name}"))
        classes |= {
            value
            for value in namespace.values()
            if isinstance(value, type)
            and dataclasses.is_dataclass(value)
            and value.__module__ == namespace["__name__"]
            and module.name != "fields"  # the markers (Pattern, Check), not props
        }
    return classes


def collect(value: Any, found: dict[type[Any], Any]) -> None:
    """Every props instance inside a validated environment (the configuration's own
    subclasses, such as ModelConfig(ModelSpec), stand for their base)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        found.setdefault(type(value), value)
        for field in dataclasses.fields(value):
            collect(getattr(value, field.name), found)
    elif hasattr(type(value), "model_fields"):
        for name in type(value).model_fields:
            collect(getattr(value, name), found)
    elif isinstance(value, list | tuple):
        for item in value:
            collect(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            collect(item, found)


@pytest.fixture(scope="module")
def instances() -> dict[type[Any], Any]:
    found: dict[type[Any], Any] = {}
    for folder in (FIXTURES / "config", FIXTURES / "shapes"):
        for env in load_environments(folder):
            collect(env, found)
    return {cls: value for cls, value in found.items() if issubclass(cls, tuple(props_classes()))}


def test_the_fixtures_hold_every_props_class(instances: dict[type[Any], Any]) -> None:
    covered = {base for cls in instances for base in cls.__mro__}
    assert props_classes() - covered == set()


def replaced(valid: Any, field: str, value: Any) -> Exception | None:
    """What building ``valid`` again with ``field=value`` raises, if anything."""
    try:
        dataclasses.replace(valid, **{field: value})
    except Exception as error:  # every kind: what the test looks at
        return error
    return None


def test_a_wrong_type_in_any_field_is_one_line_naming_the_field(
    instances: dict[type[Any], Any],
) -> None:
    refused = 0
    for cls, valid in instances.items():
        for field in dataclasses.fields(cls):
            for wrong in WRONG:
                error = replaced(valid, field.name, wrong)
                case = f"{cls.__name__}.{field.name}={wrong!r}: {error!r}"
                assert error is not None or wrong is not NOTHING_DECLARED, case
                if error is None:
                    continue  # of the declared type, and within the class's checks
                assert isinstance(error, PropProblems), case
                assert "\n" not in str(error), case
                assert field.name in str(error), case
                refused += 1
    assert refused > 1000


def make(cls: type[Any], **kwargs: Any) -> Any:
    """``cls(**kwargs)``, with the wrong types a library user without mypy might pass."""
    return cls(**kwargs)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: make(
                InstanceCapacity, instance_type="ml.m5.xlarge", initial_instance_count="2"
            ),
            "InstanceCapacity: initial_instance_count: Input should be a valid integer, "
            "got str '2'",
        ),
        (
            lambda: make(
                InstanceCapacity,
                instance_type="ml.m5.xlarge",
                initial_instance_count=1,
                fallback_instance_types=("ml.c5.xlarge", 5),
            ),
            "InstanceCapacity: fallback_instance_types[1]: Input should be a valid string, "
            "got int 5",
        ),
        (
            lambda: make(
                InstanceCapacity,
                instance_type="ml.m5.xlarge",
                initial_instance_count=1,
                fallback_instance_types="ml.c5.xlarge",
            ),
            "InstanceCapacity: fallback_instance_types: Input should be a tuple or list, "
            "got str 'ml.c5.xlarge'",
        ),
        (
            lambda: make(
                VariantSpec,
                name="main",
                model="m",
                initial_weight=1,
                instance={"instance_type": "ml.m5.xlarge", "initial_instance_count": 1},
            ),
            "VariantSpec: instance: Input should be an InstanceCapacity, got dict "
            "{'instance_type': 'ml.m5.xlarge', 'in...",
        ),
        (
            lambda: make(InstanceCapacity, instance_type=None, initial_instance_count=1),
            "InstanceCapacity: instance_type: Input should be a valid string, got None",
        ),
        (
            lambda: make(AsyncInvocation, retry_attempts="2"),
            "AsyncInvocation: retry_attempts: Input should be a valid integer, got str '2'",
        ),
        (
            lambda: make(AsyncInvocation, on_failure=None),
            "AsyncInvocation: on_failure: Input should be 'queue' or 'none', got None",
        ),
        (
            lambda: make(PipelineImages, training=1, evaluation="e", serving="s"),
            "PipelineImages: training: Input should be a valid string, got int 1",
        ),
        (
            lambda: make(InstanceAutoscaling, min_capacity=1, max_capacity=4, target_value="100"),
            "InstanceAutoscaling: target_value: Input should be a valid number, got str '100'",
        ),
        (
            lambda: make(ServerlessCapacity, memory_size_mb="2048", max_concurrency=5),
            "ServerlessCapacity: memory_size_mb: Input should be 1024, 2048, 3072, 4096, 5120 "
            "or 6144, got str '2048'",
        ),
        (
            lambda: make(
                TrainingSpec,
                image_tag="1.0.0",
                instance_type="ml.m5.xlarge",
                hyperparameters={"epochs": 10},
            ),
            "TrainingSpec: hyperparameters['epochs']: Input should be a valid string, got int 10",
        ),
    ],
)
def test_the_line_says_what_was_expected_and_what_came(build: Any, message: str) -> None:
    with pytest.raises(PropProblems) as raised:
        build()
    assert str(raised.value) == message


def test_values_python_reads_as_the_declared_type_are_accepted() -> None:
    """An int where a float is declared, a list where a tuple is: what pydantic accepts from
    YAML too; the class's own checks then apply as before."""
    component = InferenceComponentSpec(name="c", model="m", cpu_cores=1, memory_mb=1024)
    assert component.cpu_cores == 1
    capacity = InstanceCapacity(
        instance_type="ml.m5.xlarge",
        initial_instance_count=1,
        fallback_instance_types=["ml.c5.xlarge"],  # type: ignore[arg-type]
    )
    assert capacity.instance_types == ("ml.m5.xlarge", "ml.c5.xlarge")
    with pytest.raises(PropProblems, match=r"^instance: initial_instance_count: Input should be "):
        InstanceCapacity(instance_type="ml.m5.xlarge", initial_instance_count=0)


def number_fields(cls: type[Any]) -> list[tuple[str, type[Any]]]:
    """The fields declared int or float (optional or not)."""
    numbers = []
    for name, hint in typing.get_type_hints(cls).items():
        members = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        if len(members) == 1 and members[0] in (int, float):
            numbers.append((name, members[0]))
    return numbers


def test_the_configuration_reads_no_boolean_or_infinity_as_a_number(
    instances: dict[type[Any], Any],
) -> None:
    """YAML reads ``true``, ``yes`` and ``on`` as booleans and ``.inf`` as infinity: pydantic
    would take a boolean as 0 or 1 where an int is declared, and infinity where a float is."""
    checked = 0
    for cls, valid in instances.items():
        adapter = TypeAdapter(cls)
        data = {f.name: getattr(valid, f.name) for f in dataclasses.fields(cls) if f.init}
        for name, kind in number_fields(cls):
            for value in (True, float("inf")) if kind is float else (True,):
                with pytest.raises(ValidationError) as raised:
                    adapter.validate_python({**data, name: value})
                (error,) = raised.value.errors()
                assert error["loc"][0] == name, (cls.__name__, name, value)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: make(AsyncScaling, max_capacity=2, target_backlog_per_instance=float("inf")),
            "async scaling: target_backlog_per_instance: must be a finite number",
        ),
        (
            lambda: make(DeploymentSpec, strategy="all_at_once", wait_seconds=True),
            "deployment: wait_seconds: expected a number, got the boolean true",
        ),
        (
            lambda: make(
                BatchJobSpec,
                name="nightly",
                model="m",
                instance_type="ml.m5.xlarge",
                timeout_minutes=True,
            ),
            "batch job 'nightly': timeout_minutes: expected a number, got the boolean true",
        ),
    ],
)
def test_a_library_user_gets_the_same_number_checks(build: Any, message: str) -> None:
    with pytest.raises(PropProblems) as raised:
        build()
    assert str(raised.value).startswith(message)
