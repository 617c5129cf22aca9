"""WatchedFunction: the infrastructure every function shares (VPC placement, encrypted failure
queue and log group, alarms, one policy, waiting for every policy of its role)."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template
from constructs import Construct

from mlops_cdk.constructs.function import (
    AsyncInvocation,
    FunctionPolicy,
    VpcPlacement,
    WatchedFunction,
)
from mlops_cdk.functions import ASSET_EXCLUDE, asset_dir
from tests.helpers import imported_vpc, new_stack

KEY_ARN = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:alarms"
OWN = iam.PolicyStatement(
    sid="ReadThings", actions=["s3:GetObject"], resources=["arn:aws:s3:::labels/*"]
)


def build(
    scope_id: str | None = None, construct_id: str = "Check", **changes: Any
) -> tuple[cdk.Stack, WatchedFunction]:
    stack = new_stack()
    scope: Construct = stack if scope_id is None else Construct(stack, scope_id)
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    props: dict[str, Any] = {
        "subject": "Accuracy check of dev-churn",
        "code": lambda_.Code.from_asset(str(asset_dir("retrain")), exclude=list(ASSET_EXCLUDE)),
        "handler": "index.handler",
        "role": role,
        "key": kms.Key.from_key_arn(stack, "Key", KEY_ARN),
        "policy": FunctionPolicy(description="Accuracy check: read labels", statements=[OWN]),
        "invoked_by": "only this service's schedule invokes it, once per period.",
        "vpc": VpcPlacement(imported_vpc(stack), description="Accuracy check: HTTPS only"),
        "environment": {"ENDPOINT_NAME": "dev-churn"},
        "log_retention": logs.RetentionDays.TWO_WEEKS,
        "removal_policy": cdk.RemovalPolicy.DESTROY,
        **changes,
    }
    return stack, WatchedFunction(scope, construct_id, **props)


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return dict(resource)


def logical_id(stack: cdk.Stack, construct: Construct) -> str:
    child = construct.node.default_child
    assert isinstance(child, cdk.CfnElement)
    return stack.get_logical_id(child)


@pytest.fixture(scope="module")
def built() -> tuple[cdk.Stack, WatchedFunction, Template]:
    stack, function = build()
    return stack, function, Template.from_stack(stack)


def test_failure_queue_is_kms_encrypted_tls_only_and_keeps_14_days(
    built: tuple[cdk.Stack, WatchedFunction, Template],
) -> None:
    _, _, template = built
    queue = only(template, "AWS::SQS::Queue")
    assert queue["Properties"] == {"KmsMasterKeyId": KEY_ARN, "MessageRetentionPeriod": 1209600}
    assert queue["DeletionPolicy"] == "Delete"  # the removal policy given
    (statement,) = only(template, "AWS::SQS::QueuePolicy")["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_log_group_is_encrypted_with_the_key_and_kept_for_the_retention(
    built: tuple[cdk.Stack, WatchedFunction, Template],
) -> None:
    stack, function, template = built
    group = only(template, "AWS::Logs::LogGroup")
    assert group["Properties"] == {"KmsKeyId": KEY_ARN, "RetentionInDays": 14}
    assert group["DeletionPolicy"] == "Delete"
    props = only(template, "AWS::Lambda::Function")["Properties"]
    assert props["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": {"Ref": logical_id(stack, function.log_group)},
    }


def test_function_runs_in_the_isolated_subnets_behind_an_https_only_group(
    built: tuple[cdk.Stack, WatchedFunction, Template],
) -> None:
    stack, function, template = built
    props = only(template, "AWS::Lambda::Function")["Properties"]
    assert function.security_group is not None
    assert props["VpcConfig"] == {
        "SecurityGroupIds": [
            {"Fn::GetAtt": [logical_id(stack, function.security_group), "GroupId"]}
        ],
        "SubnetIds": ["subnet-01234567", "subnet-89abcdef"],
    }
    group = only(template, "AWS::EC2::SecurityGroup")["Properties"]
    assert group["GroupDescription"] == "Accuracy check: HTTPS only"
    assert "SecurityGroupIngress" not in group
    (egress,) = group["SecurityGroupEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("tcp", 443, 443)
    assert props["Runtime"].startswith("python3.")
    assert props["Environment"] == {"Variables": {"ENDPOINT_NAME": "dev-churn"}}
    assert (props["Timeout"], props["MemorySize"]) == (60, 256)
    assert "ReservedConcurrentExecutions" not in props
    assert "TracingConfig" not in props  # no X-Ray (Tracing.DISABLED)


def test_asynchronous_failures_go_to_the_queue_after_the_retries(
    built: tuple[cdk.Stack, WatchedFunction, Template],
) -> None:
    stack, function, template = built
    config = only(template, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert function.failure_queue is not None
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 21600)
    assert config["DestinationConfig"] == {
        "OnFailure": {
            "Destination": {"Fn::GetAtt": [logical_id(stack, function.failure_queue), "Arn"]}
        }
    }


def statements(template: Template) -> list[dict[str, Any]]:
    policy = only(template, "AWS::IAM::ManagedPolicy")["Properties"]
    return list(policy["PolicyDocument"]["Statement"])


def test_one_policy_own_statements_first_then_logs_queue_and_vpc(
    built: tuple[cdk.Stack, WatchedFunction, Template],
) -> None:
    stack, function, template = built
    policy = only(template, "AWS::IAM::ManagedPolicy")["Properties"]
    assert policy["Description"] == "Accuracy check: read labels"
    assert policy["Roles"] == [{"Ref": "Role1ABCC5F0"}]
    found = {s["Sid"]: s for s in statements(template)}
    assert list(found) == [
        "ReadThings",
        "WriteOwnLogs",
        "SendFailedInvocations",
        "SendFailedInvocationsEncrypt",
        "VpcNetworkInterfaces",
    ]
    assert found["WriteOwnLogs"]["Resource"] == {
        "Fn::GetAtt": [logical_id(stack, function.log_group), "Arn"]
    }
    assert function.failure_queue is not None
    assert found["SendFailedInvocations"] == {
        "Sid": "SendFailedInvocations",
        "Action": "sqs:SendMessage",
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [logical_id(stack, function.failure_queue), "Arn"]},
    }
    assert found["SendFailedInvocationsEncrypt"]["Resource"] == KEY_ARN
    assert found["SendFailedInvocationsEncrypt"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "sqs.eu-west-1.amazonaws.com"}
    }


def test_the_role_is_never_edited(built: tuple[cdk.Stack, WatchedFunction, Template]) -> None:
    _, _, template = built
    template.resource_count_is("AWS::IAM::Policy", 0)
    role = only(template, "AWS::IAM::Role")["Properties"]
    assert "Policies" not in role
    assert "ManagedPolicyArns" not in role
    props = only(template, "AWS::Lambda::Function")["Properties"]
    assert props["Role"] == {"Fn::GetAtt": ["Role1ABCC5F0", "Arn"]}


def test_function_waits_for_every_policy_of_its_role_even_one_made_later() -> None:
    stack, function = build()
    # A policy of the role made elsewhere, after the function.
    later = iam.ManagedPolicy(
        stack,
        "Later",
        roles=[function.role],
        statements=[iam.PolicyStatement(actions=["sqs:ReceiveMessage"], resources=["*"])],
    )
    template = Template.from_stack(stack)
    own, other = (
        logical_id(stack, function.policy),
        stack.get_logical_id(
            later.node.default_child  # type: ignore[arg-type]
        ),
    )
    resource = only(template, "AWS::Lambda::Function")
    assert set(resource["DependsOn"]) == {own, other}
    invoke_config = only(template, "AWS::Lambda::EventInvokeConfig")
    assert own in invoke_config["DependsOn"]


def test_alarms_watch_the_queue_and_the_errors_and_notify_only_when_told() -> None:
    stack, function = build()
    resources = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert len(resources) == 2
    depth, errors = (resources[logical_id(stack, alarm)]["Properties"] for alarm in function.alarms)
    assert function.failure_queue is not None
    assert (depth["Namespace"], depth["MetricName"], depth["Statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert depth["Dimensions"] == [
        {
            "Name": "QueueName",
            "Value": {"Fn::GetAtt": [logical_id(stack, function.failure_queue), "QueueName"]},
        }
    ]
    assert (errors["Namespace"], errors["MetricName"]) == ("AWS/Lambda", "Errors")
    assert errors["Dimensions"] == [
        {"Name": "FunctionName", "Value": {"Ref": logical_id(stack, function.function)}}
    ]
    for alarm in (depth, errors):
        assert alarm["TreatMissingData"] == "notBreaching"
        assert "Accuracy check of dev-churn" in json.dumps(alarm["AlarmDescription"])
        assert "AlarmActions" not in alarm
    stack, function = build()
    function.watch.notify(actions.SnsAction(sns.Topic.from_topic_arn(stack, "Topic", TOPIC)))
    notified = Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm")
    assert all(a["Properties"]["AlarmActions"] == [TOPIC] for a in notified.values())


def test_settings_reach_the_function() -> None:
    stack, _ = build(
        timeout=cdk.Duration.minutes(5),
        memory_size=512,
        reserved_concurrency=3,
        description="Accuracy check of dev-churn",
        invocation=AsyncInvocation(retry_attempts=0, max_event_age=cdk.Duration.hours(1)),
    )
    template = Template.from_stack(stack)
    props = only(template, "AWS::Lambda::Function")["Properties"]
    assert (props["Timeout"], props["MemorySize"], props["ReservedConcurrentExecutions"]) == (
        300,
        512,
        3,
    )
    assert props["Description"] == "Accuracy check of dev-churn"
    config = only(template, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (0, 3600)


def test_a_role_that_may_use_the_key_gets_no_queue_key_statement() -> None:
    stack, _ = build(policy=FunctionPolicy(description="p", key_use_granted=True))
    sids = [s["Sid"] for s in statements(Template.from_stack(stack))]
    assert sids == ["WriteOwnLogs", "SendFailedInvocations", "VpcNetworkInterfaces"]


def test_without_a_vpc_no_security_group_and_no_network_interface_actions() -> None:
    stack, function = build(vpc=None)
    template = Template.from_stack(stack)
    assert function.security_group is None
    template.resource_count_is("AWS::EC2::SecurityGroup", 0)
    assert "VpcConfig" not in only(template, "AWS::Lambda::Function")["Properties"]
    assert "VpcNetworkInterfaces" not in [s["Sid"] for s in statements(template)]


def test_synchronous_function_has_no_failure_queue_and_watches_errors_only() -> None:
    stack, function = build(invocation=AsyncInvocation(on_failure="none"))
    template = Template.from_stack(stack)
    assert function.failure_queue is None
    template.resource_count_is("AWS::SQS::Queue", 0)
    config = only(template, "AWS::Lambda::EventInvokeConfig")["Properties"]
    assert "DestinationConfig" not in config
    assert [s["Sid"] for s in statements(template)] == [
        "ReadThings",
        "WriteOwnLogs",
        "VpcNetworkInterfaces",
    ]
    (alarm,) = template.find_resources("AWS::CloudWatch::Alarm").values()
    assert alarm["Properties"]["MetricName"] == "Errors"


def test_under_the_id_default_resources_keep_the_logical_ids_of_the_parent() -> None:
    """A construct that wraps WatchedFunction as "Default" keeps the logical ids its resources
    had when it built them itself (CDK leaves "Default" out of logical ids, aws/aws-cdk#496):
    the ids of the drift check's resources in the committed templates."""
    stack, function = build(scope_id="Drift", construct_id="Default")
    assert function.failure_queue is not None
    assert function.security_group is not None
    assert function.node.path == "Test/Drift/Default"
    ids = {
        logical_id(stack, construct)
        for construct in (
            function.log_group,
            function.failure_queue,
            function.security_group,
            function.function,
            function.policy,
        )
    }
    ids |= {logical_id(stack, alarm) for alarm in function.alarms}
    assert ids == {
        "DriftLogsBBEDFA1D",
        "DriftFailuresA4C2A91E",
        "DriftSecurityGroupFC85451B",
        "DriftFunctionC635B4D0",
        "DriftPolicyDC7E85E5",
        "DriftWatchFailuresWaiting2B142822",
        "DriftWatchFunctionErrors066CAF0C",
    }
    # The same ids as resources built directly in the parent.
    flat = Construct(new_stack(), "Drift")
    queue = sqs.Queue(flat, "Failures")
    assert logical_id(cdk.Stack.of(flat), queue) == "DriftFailuresA4C2A91E"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"invocation": AsyncInvocation(retry_attempts=3)}, "retry"),
        ({"invocation": AsyncInvocation(max_event_age=cdk.Duration.hours(7))}, "21600"),
    ],
)
def test_asynchronous_limits_are_checked(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(Exception, match=message):
        build(**changes)


def test_a_vpc_without_private_or_isolated_subnets_is_refused() -> None:
    stack = new_stack()
    vpc = ec2.Vpc.from_vpc_attributes(
        stack,
        "PublicOnly",
        vpc_id="vpc-0123456789abcdef0",
        availability_zones=["eu-west-1a"],
        public_subnet_ids=["subnet-0aaaaaaa"],
    )
    with pytest.raises(ValueError, match="no private or isolated subnets"):
        VpcPlacement(vpc, description="d").chosen_subnets()
