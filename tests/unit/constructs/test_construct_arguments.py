"""A library user's keyword argument of the wrong type is one line naming the construct and the
argument, before anything is built (mlops_cdk.props.fields.checked_arguments): not a string
iterated as a list of one-letter addresses, an AttributeError, or jsii's page-long error."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from constructs import Construct

import mlops_cdk.constructs
from mlops_cdk.constructs import AlarmTopic, EndpointAlarms, HostedModel
from mlops_cdk.props.errors import PropProblems
from tests.helpers import new_stack

# Between them, every annotated argument refuses one: a plain number refuses where an object
# (a CDK interface, a props dataclass, a name) belongs, a bare object where a number or a
# collection does.
WRONG = (object(), 1.5)


def exported_constructs() -> list[type[Construct]]:
    return [
        value
        for value in (getattr(mlops_cdk.constructs, name) for name in mlops_cdk.constructs.__all__)
        if isinstance(value, type) and issubclass(value, Construct)
    ]


def make(cls: type[Construct], **kwargs: Any) -> Any:
    """``cls(stack, "X", **kwargs)``, with what a library user without mypy might pass."""
    return cls(new_stack(), "X", **kwargs)


def test_every_argument_of_every_construct_is_checked() -> None:
    stack = new_stack()
    checked = 0
    for cls in exported_constructs():
        hints = typing.get_type_hints(cls.__init__)
        for name, parameter in inspect.signature(cls.__init__).parameters.items():
            if parameter.kind is not parameter.KEYWORD_ONLY or hints[name] is Any:
                continue
            messages = []
            for wrong in WRONG:
                try:  # the other arguments are missing: only the check can answer first
                    cls(stack, "X", **{name: wrong})
                except PropProblems as error:
                    messages.append(str(error))
                except Exception:  # noqa: S110 - passed the check: the construct's own error
                    pass
            assert any(m.startswith(f"{cls.__name__}: {name}: ") for m in messages), (cls, name)
            checked += 1
    assert checked > 150


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    [
        (
            AlarmTopic,
            {"key": None, "emails": "ml-oncall@example.com"},
            "AlarmTopic: key: Input should be an IKey, got NoneType None; "
            "emails: Input should be a tuple or list, got str 'ml-oncall@example.com'",
        ),
        (
            EndpointAlarms,
            {"endpoint_name": "churn", "variants": ["main"]},
            "EndpointAlarms: variants: Input should be a valid dictionary, got list ['main']",
        ),
        (
            EndpointAlarms,
            {"endpoint_name": 5, "variants": {"main": "ml.m5.xlarge"}},
            "EndpointAlarms: endpoint_name: Input should be a valid string, got int 5",
        ),
        (
            EndpointAlarms,
            {"endpoint_name": "churn", "variants": {"main": 5}},
            "EndpointAlarms: variants['main']: Input should be a valid string or None, got int 5",
        ),
        (
            HostedModel,
            {"spec": {"image_tag": "1.0.0"}},
            "HostedModel: spec: Input should be a ModelSpec or None, got dict "
            "{'image_tag': '1.0.0'}",
        ),
    ],
)
def test_the_line_names_the_construct_the_argument_and_what_came(
    cls: type[Construct], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(PropProblems) as raised:
        make(cls, **kwargs)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("emails", "problem"),
    [
        (["ml-oncall"], "'ml-oncall' is not an e-mail address"),
        (["a@example.com", "a@example.com"], "lists an address twice"),
    ],
)
def test_alarm_topic_checks_its_addresses(emails: list[str], problem: str) -> None:
    """The configuration's rule for monitoring.alarm_emails, now the construct's own."""
    stack = new_stack()
    key = kms.Key(stack, "Key")
    with pytest.raises(PropProblems) as raised:
        AlarmTopic(stack, "Topic", key=key, emails=emails)
    assert str(raised.value) == f"AlarmTopic: emails: {problem}"


def test_a_tuple_or_a_list_is_a_sequence() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    AlarmTopic(stack, "Tuple", key=key, emails=("a@example.com",))
    AlarmTopic(stack, "List", key=key, emails=["a@example.com"])


def test_every_construct_that_names_an_endpoint_checks_the_name() -> None:
    """An alarm, a scaling policy, a dashboard or a permission on a name no endpoint can have
    (CreateEndpoint's EndpointName) watches or allows nothing: refused before anything is
    built; a token is left to CloudFormation."""
    stack = new_stack()
    token = cdk.Fn.import_value("EndpointName")
    named = [
        cls
        for cls in exported_constructs()
        if "endpoint_name" in inspect.signature(cls.__init__).parameters
    ]
    assert len(named) >= 12
    for cls in named:
        with pytest.raises(PropProblems) as raised:
            cls(stack, "X", endpoint_name="churn_v1")
        assert str(raised.value) == (
            f"{cls.__name__}: endpoint_name: 'churn_v1' is not an endpoint name: 1-63 letters, "
            "digits and hyphens, starting and ending with a letter or digit"
        )
        try:  # the other arguments are missing: the check must let the token through first
            cls(stack, "Y", endpoint_name=token)
        except PropProblems as error:
            pytest.fail(f"{cls.__name__}: {error}")
        except Exception:  # noqa: S110 - passed the check: the construct's own error
            pass
