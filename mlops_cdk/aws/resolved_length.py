"""How long a template value can be once CloudFormation resolves it, and how many characters IAM
counts in a policy document: what the IAM quotas are checked against offline.

IAM counts a policy's characters without white space and refuses a document over its quota at
deploy time ("IAM and AWS STS quotas, name requirements, and character limits", IAM User Guide:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). A synthesized
policy holds intrinsic functions in place of ARNs and names, so its deployed size is estimated
here from above:

- pseudo parameters resolve to the stack's account, region and partition (the longest ones when
  the stack does not state them);
- a reference to a resource resolves to its name, id or ARN in the shape AWS gives it, with the
  name the template sets, else the name CloudFormation generates: "stack name, logical ID and a
  random string" (``Name type``, CloudFormation User Guide), at most the name's quota. The random
  string's length (13 characters at most, here) is what deployed stacks show, not a documented
  number;
- an import resolves to the exported value, read in the exporting stack;
- what none of these covers (another resource type or attribute, an import from outside the app)
  counts as :data:`UNKNOWN_LENGTH` characters.

Plain Python, no CDK: the SageMaker pack's ``IamPolicyLimits`` rule uses it on templates.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from mlops_cdk.aws.cfn_values import export_key, intrinsic, reference
from mlops_cdk.aws.images import partition_of, url_suffix
from mlops_cdk.aws.names import NAME_PROPERTIES
from mlops_cdk.aws.regions import REGIONS

# IAM quotas (reference_iam-quotas): fixed character limits, and two adjustable quotas at their
# defaults (an account whose quota was raised acknowledges the finding, saying so).
MANAGED_POLICY_MAX_CHARS = 6_144  # "Managed policy size"
ROLE_INLINE_POLICIES_MAX_CHARS = 10_240  # "Role policy size": all of a role's inline policies
TRUST_POLICY_MAX_CHARS = 2_048  # "Role trust policy length" (default; adjustable)
MANAGED_POLICIES_PER_ROLE = 10  # "Managed policies attached to an IAM role" (default; adjustable)

UNKNOWN_LENGTH = 256
GENERATED_SUFFIX = 13  # CloudFormation's random string in a generated name, and its hyphens
# Where the stack does not state its region: the longest of every region CDK knows.
_LONGEST_REGION = max(REGIONS, key=len)
_LONGEST_PARTITION = max((partition_of(r) for r in REGIONS), key=len)
_LONGEST_URL_SUFFIX = max((url_suffix(r) for r in REGIONS), key=len)
_LONGEST_STACK_NAME = 128
_UUID = 36


class Place(Protocol):
    """Where a value is resolved: one stack of a synthesized app."""

    account: str | None
    region: str | None
    stack_name: str | None

    def resource_at(self, logical_id: str) -> tuple[str, Mapping[str, Any]] | None:
        """(type, properties) of a resource of this stack."""

    def exported(self, name: str) -> tuple[Place, Any] | None:
        """The stack exporting ``name`` in the same app, and the exported value."""


@dataclass(frozen=True)
class _Shape:
    """How a resource's references resolve: its name (set by the type's property in
    :data:`~mlops_cdk.aws.names.NAME_PROPERTIES`; a type without one has an id) has at most
    ``name_max`` characters; ``forms`` maps an attribute (None for Ref) to its shape, with
    ``{name}``, ``{partition}``, ``{region}``, ``{account}``, ``{url_suffix}`` and ``{path}``
    (the IAM path)."""

    name_max: int
    forms: Mapping[str | None, str]


def _arn(service: str, resource: str, *, region: bool = True) -> str:
    return f"arn:{{partition}}:{service}:{'{region}' if region else ''}:{{account}}:{resource}"


def _sagemaker(name_property: str, kind: str) -> _Shape:
    arn = _arn("sagemaker", f"{kind}/{{name}}")
    return _Shape(63, {None: arn, name_property: "{name}", "Arn": arn})


def _id(prefix: str) -> _Shape:
    """An EC2 id: a prefix and 17 hexadecimal digits."""
    return _Shape(len(prefix) + 17, {None: "{name}"})


# Names' quotas: each service's API reference for its name parameter (CreateBucket 3-63,
# CreateRole 64, CreatePolicy 128, CreateTopic 256, CreateQueue 80, CreateFunction 64,
# CreateRepository 256, CreateLogGroup 512, CreateStateMachine 80, CreateProject 255,
# PutMetricAlarm 255, SageMaker's names 63, CreatePipeline 256, PutRule 64); Ref and attributes:
# each resource type's "Return values" in the CloudFormation template reference.
_SHAPES: dict[str, _Shape] = {
    "AWS::S3::Bucket": _Shape(
        63,
        {
            None: "{name}",
            "Arn": "arn:{partition}:s3:::{name}",
            "DomainName": "{name}.s3.{url_suffix}",
            "RegionalDomainName": "{name}.s3.{region}.{url_suffix}",
        },
    ),
    "AWS::KMS::Key": _Shape(
        _UUID, {None: "{name}", "KeyId": "{name}", "Arn": _arn("kms", "key/{name}")}
    ),
    "AWS::IAM::Role": _Shape(
        64,
        {
            None: "{name}",
            "Arn": "arn:{partition}:iam::{account}:role{path}{name}",
            "RoleId": "AROA" + "X" * 17,
        },
    ),
    "AWS::IAM::ManagedPolicy": _Shape(
        128,
        {
            None: "arn:{partition}:iam::{account}:policy{path}{name}",
            "PolicyArn": "arn:{partition}:iam::{account}:policy{path}{name}",
        },
    ),
    "AWS::SNS::Topic": _Shape(
        256,
        {None: _arn("sns", "{name}"), "TopicArn": _arn("sns", "{name}"), "TopicName": "{name}"},
    ),
    "AWS::SQS::Queue": _Shape(
        80,
        {
            None: "https://sqs.{region}.{url_suffix}/{account}/{name}",
            "QueueUrl": "https://sqs.{region}.{url_suffix}/{account}/{name}",
            "Arn": _arn("sqs", "{name}"),
            "QueueName": "{name}",
        },
    ),
    "AWS::Lambda::Function": _Shape(64, {None: "{name}", "Arn": _arn("lambda", "function:{name}")}),
    "AWS::ECR::Repository": _Shape(
        256,
        {
            None: "{name}",
            "Arn": _arn("ecr", "repository/{name}"),
            "RepositoryUri": "{account}.dkr.ecr.{region}.{url_suffix}/{name}",
        },
    ),
    "AWS::Logs::LogGroup": _Shape(512, {None: "{name}", "Arn": _arn("logs", "log-group:{name}:*")}),
    "AWS::StepFunctions::StateMachine": _Shape(
        80,
        {
            None: _arn("states", "stateMachine:{name}"),
            "Arn": _arn("states", "stateMachine:{name}"),
            "Name": "{name}",
        },
    ),
    "AWS::CodeBuild::Project": _Shape(
        255, {None: "{name}", "Arn": _arn("codebuild", "project/{name}")}
    ),
    "AWS::CodePipeline::Pipeline": _Shape(100, {None: "{name}"}),
    "AWS::CloudWatch::Alarm": _Shape(
        255, {None: "{name}", "Arn": _arn("cloudwatch", "alarm:{name}")}
    ),
    "AWS::Events::Rule": _Shape(64, {None: "{name}", "Arn": _arn("events", "rule/{name}")}),
    "AWS::SageMaker::Endpoint": _sagemaker("EndpointName", "endpoint"),
    "AWS::SageMaker::EndpointConfig": _sagemaker("EndpointConfigName", "endpoint-config"),
    "AWS::SageMaker::Model": _sagemaker("ModelName", "model"),
    "AWS::SageMaker::ModelPackageGroup": _Shape(
        63,
        {
            None: _arn("sagemaker", "model-package-group/{name}"),
            "ModelPackageGroupArn": _arn("sagemaker", "model-package-group/{name}"),
        },
    ),
    "AWS::SageMaker::Pipeline": _Shape(256, {None: "{name}"}),
    "AWS::EC2::VPC": _Shape(21, {None: "{name}", "DefaultSecurityGroup": "sg-" + "x" * 17}),
    "AWS::EC2::SecurityGroup": _Shape(20, {None: "{name}", "GroupId": "{name}"}),
    "AWS::EC2::Subnet": _id("subnet-"),
    "AWS::EC2::VPCEndpoint": _id("vpce-"),
}


def _fields(place: Place) -> dict[str, str]:
    if place.region is None:
        return {
            "partition": _LONGEST_PARTITION,
            "region": "x" * len(_LONGEST_REGION),
            "account": place.account or "x" * 12,
            "url_suffix": _LONGEST_URL_SUFFIX,
        }
    return {
        "partition": partition_of(place.region),
        "region": place.region,
        "account": place.account or "x" * 12,
        "url_suffix": url_suffix(place.region),
    }


def _pseudo_length(name: str, place: Place) -> int:
    fields = _fields(place)
    stack_name = place.stack_name or "x" * _LONGEST_STACK_NAME
    lengths = {
        "AWS::AccountId": len(fields["account"]),
        "AWS::Region": len(fields["region"]),
        "AWS::Partition": len(fields["partition"]),
        "AWS::URLSuffix": len(fields["url_suffix"]),
        "AWS::StackName": len(stack_name),
        # arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>
        "AWS::StackId": len(
            _arn("cloudformation", "stack/{name}/{uuid}").format(
                **fields, name=stack_name, uuid="x" * _UUID
            )
        ),
        "AWS::NoValue": 0,
    }
    return lengths.get(name, UNKNOWN_LENGTH)


def _name_length(
    resource_type: str, logical_id: str, properties: Mapping[str, Any], place: Place
) -> int:
    shape = _SHAPES[resource_type]
    name_property = NAME_PROPERTIES.get(resource_type)
    if name_property is None:
        return shape.name_max
    given = properties.get(name_property)
    if given is not None:
        return value_length(given, place)
    stack_name = len(place.stack_name) if place.stack_name else _LONGEST_STACK_NAME
    return min(shape.name_max, stack_name + 1 + len(logical_id) + 1 + GENERATED_SUFFIX)


def _reference_length(logical_id: str, attribute: str | None, place: Place) -> int:
    if logical_id.startswith("AWS::") and attribute is None:
        return _pseudo_length(logical_id, place)
    found = place.resource_at(logical_id)
    shape = _SHAPES.get(found[0]) if found else None
    if found is None or shape is None or attribute not in shape.forms:
        return UNKNOWN_LENGTH
    properties = found[1]
    path = properties.get("Path", "/")
    rendered = shape.forms[attribute].format(
        **_fields(place),
        name="",
        path=path if isinstance(path, str) else "x" * UNKNOWN_LENGTH,
    )
    name = (
        _name_length(found[0], logical_id, properties, place)
        if "{name}" in shape.forms[attribute]
        else 0
    )
    return len(rendered) + name


def _sub_length(argument: Any, place: Place) -> int:
    text, variables = (
        (argument[0], argument[1] if len(argument) > 1 else {})
        if isinstance(argument, list) and argument
        else (argument, {})
    )
    if not isinstance(text, str) or not isinstance(variables, dict):
        return UNKNOWN_LENGTH
    total, rest = 0, text
    while "${" in rest:
        before, _, after = rest.partition("${")
        name, closed, rest = after.partition("}")
        total += len(before)
        if not closed:
            return total + 2 + len(name)
        if name.startswith("!"):
            total += len(name) + 2  # ${!Literal} stays as ${Literal}
        elif name in variables:
            total += value_length(variables[name], place)
        else:
            logical_id, _, attribute = name.partition(".")
            total += _reference_length(logical_id, attribute or None, place)
    return total + len(rest)


def _select_length(argument: Any, place: Place) -> int:
    if not isinstance(argument, list) or len(argument) != 2:
        return UNKNOWN_LENGTH
    items = argument[1]
    if isinstance(items, list):
        return max((value_length(item, place) for item in items), default=0)
    split = intrinsic(items)
    if split is not None and split[0] == "Fn::Split" and isinstance(split[1], list):
        return value_length(split[1][1], place) if len(split[1]) == 2 else UNKNOWN_LENGTH
    return UNKNOWN_LENGTH


def _ref_length(function: str, argument: Any, place: Place) -> int:
    found = reference({function: argument})
    return UNKNOWN_LENGTH if found is None else _reference_length(*found, place)


def _join_length(argument: Any, place: Place) -> int:
    if isinstance(argument, list) and len(argument) == 2:
        separator, parts = argument
        if isinstance(separator, str) and isinstance(parts, list):
            joined = sum(value_length(part, place) for part in parts)
            return joined + len(separator) * max(len(parts) - 1, 0)
    return UNKNOWN_LENGTH


def _if_length(argument: Any, place: Place) -> int:
    if isinstance(argument, list) and len(argument) == 3:
        return max(value_length(argument[1], place), value_length(argument[2], place))
    return UNKNOWN_LENGTH


def _import_length(argument: Any, place: Place) -> int:
    exported = place.exported(export_key(argument))
    return UNKNOWN_LENGTH if exported is None else value_length(exported[1], exported[0])


_FUNCTIONS: dict[str, Callable[[Any, Place], int]] = {
    "Ref": partial(_ref_length, "Ref"),
    "Fn::GetAtt": partial(_ref_length, "Fn::GetAtt"),
    "Fn::Join": _join_length,
    "Fn::Sub": _sub_length,
    "Fn::Select": _select_length,
    "Fn::If": _if_length,
    "Fn::ImportValue": _import_length,
}


def value_length(value: Any, place: Place) -> int:
    """The most characters ``value`` (a string or an intrinsic function) resolves to."""
    if isinstance(value, str):
        return len(value)
    found = intrinsic(value)
    if found is not None:
        length = _FUNCTIONS.get(found[0])
        return UNKNOWN_LENGTH if length is None else length(found[1], place)
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False))


def _resolved(value: Any, place: Place) -> Any:
    """``value`` with each intrinsic function replaced by a string as long as it can resolve."""
    if isinstance(value, dict):
        if intrinsic(value) is not None:
            return "x" * value_length(value, place)
        return {key: _resolved(item, place) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, place) for item in value]
    return value


def _compact_json(value: Any, place: Place) -> str:
    """``value`` as compact JSON, each intrinsic function as long as it can resolve."""
    return json.dumps(_resolved(value, place), separators=(",", ":"), ensure_ascii=False)


def json_length(value: Any, place: Place) -> int:
    """The most characters ``value`` can take as compact JSON once deployed."""
    return len(_compact_json(value, place))


def json_bytes(value: Any, place: Place) -> int:
    """The most bytes ``value`` can take as compact UTF-8 JSON once deployed."""
    return len(_compact_json(value, place).encode())


def policy_size(document: Any, place: Place) -> int:
    """The most characters IAM can count in ``document`` once deployed (white space aside)."""
    return sum(1 for character in _compact_json(document, place) if not character.isspace())
