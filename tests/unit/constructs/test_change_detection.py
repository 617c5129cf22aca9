"""Changes made outside the pipeline: the event pattern against sample CloudTrail events
(matched with moto's implementation of EventBridge patterns), the rule, its target and the
topic policy; and the trail's security properties."""

from __future__ import annotations

import copy
import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Template
from moto.events.models import EventPattern

from mlops_cdk.aws.names import trail_name_for
from mlops_cdk.constructs.change_detection import (
    AUTOSCALING_ROLE,
    EndpointChangeRule,
    cfn_execution_role_name,
    change_event_pattern,
)
from mlops_cdk.constructs.change_trail import ChangeTrail
from tests.helpers import new_stack

ACCOUNT = "123456789012"
ENDPOINT = "dev-churn"
CONFIG = "EndpointConfig-AbCdEf123"
MODEL = "Modelchurnv1-XyZ987"
CFN_ROLE = f"cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-eu-west-1"


def cloudtrail_event(
    name: str,
    request: dict[str, Any],
    identity: dict[str, Any],
) -> dict[str, Any]:
    """An ``AWS API Call via CloudTrail`` event as EventBridge delivers it ("Understand
    SageMaker AI log file entries"; "CloudTrail userIdentity element")."""
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.sagemaker",
        "account": ACCOUNT,
        "time": "2026-05-01T10:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": {
            "eventVersion": "1.09",
            "userIdentity": identity,
            "eventTime": "2026-05-01T10:00:00Z",
            "eventSource": "sagemaker.amazonaws.com",
            "eventName": name,
            "awsRegion": "eu-west-1",
            "sourceIPAddress": "203.0.113.7",
            "userAgent": "aws-cli/2.15.0",
            "requestParameters": request,
            "responseElements": None,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": ACCOUNT,
        },
    }


IAM_USER = {
    "type": "IAMUser",
    "principalId": "AIDAEXAMPLE",
    "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
    "accountId": ACCOUNT,
    "userName": "alice",
}


def assumed_role(role: str, *, invoked_by: str | None = None, path: str = "") -> dict[str, Any]:
    identity: dict[str, Any] = {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:session",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/session",
        "accountId": ACCOUNT,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLE",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{path}{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-05-01T09:00:00Z", "mfaAuthenticated": "false"},
        },
    }
    if invoked_by is not None:
        identity["invokedBy"] = invoked_by
    return identity


SSO_ADMIN = assumed_role("AWSReservedSSO_Admin_0123456789abcdef")
CLOUDFORMATION = assumed_role(CFN_ROLE, invoked_by="cloudformation.amazonaws.com")
AUTOSCALING = assumed_role(
    AUTOSCALING_ROLE,
    invoked_by="sagemaker.application-autoscaling.amazonaws.com",
    path="aws-service-role/sagemaker.application-autoscaling.amazonaws.com/",
)
WEIGHTS = {"endpointName": ENDPOINT, "desiredWeightsAndCapacities": [{"variantName": "champion"}]}

MATCHING = {
    "an IAM user updates the endpoint": ("UpdateEndpoint", {"endpointName": ENDPOINT}, IAM_USER),
    "an SSO admin shifts traffic": ("UpdateEndpointWeightsAndCapacities", WEIGHTS, SSO_ADMIN),
    "someone deletes the endpoint": ("DeleteEndpoint", {"endpointName": ENDPOINT}, SSO_ADMIN),
    "someone deletes its config": (
        "DeleteEndpointConfig",
        {"endpointConfigName": CONFIG},
        IAM_USER,
    ),
    "someone deletes its model": ("DeleteModel", {"modelName": MODEL}, SSO_ADMIN),
    "another AWS service acting for someone": (
        "UpdateEndpoint",
        {"endpointName": ENDPOINT},
        assumed_role("ServiceCatalogLaunch", invoked_by="servicecatalog.amazonaws.com"),
    ),
}
NOT_MATCHING = {
    "the pipeline's CloudFormation deploy": (
        "UpdateEndpoint",
        {"endpointName": ENDPOINT},
        CLOUDFORMATION,
    ),
    "CloudFormation deleting an old config": (
        "DeleteEndpointConfig",
        {"endpointConfigName": CONFIG},
        CLOUDFORMATION,
    ),
    "the CDK execution role without invokedBy": (
        "DeleteModel",
        {"modelName": MODEL},
        assumed_role(CFN_ROLE),
    ),
    "CloudFormation with the caller's credentials": (
        "UpdateEndpoint",
        {"endpointName": ENDPOINT},
        {**IAM_USER, "invokedBy": "cloudformation.amazonaws.com"},
    ),
    "autoscaling scales a variant": ("UpdateEndpointWeightsAndCapacities", WEIGHTS, AUTOSCALING),
    "autoscaling's role without invokedBy": (
        "UpdateEndpointWeightsAndCapacities",
        WEIGHTS,
        assumed_role(AUTOSCALING_ROLE),
    ),
    "another service's endpoint": ("UpdateEndpoint", {"endpointName": "dev-fraud"}, IAM_USER),
    "another config": ("DeleteEndpointConfig", {"endpointConfigName": "Other-1"}, IAM_USER),
    "a call that changes nothing": ("DescribeEndpoint", {"endpointName": ENDPOINT}, IAM_USER),
    "creating an endpoint": ("CreateEndpoint", {"endpointName": ENDPOINT}, IAM_USER),
}


@pytest.fixture(scope="module")
def pattern() -> EventPattern:
    raw = change_event_pattern(
        endpoint_name=ENDPOINT,
        endpoint_config_names=[CONFIG],
        model_names=[MODEL],
        excluded_role_names=[CFN_ROLE],
    )
    return EventPattern.load(json.dumps(raw))


@pytest.mark.parametrize("case", sorted(MATCHING))
def test_changes_by_people_match(pattern: EventPattern, case: str) -> None:
    assert pattern.matches_event(cloudtrail_event(*MATCHING[case]))


@pytest.mark.parametrize("case", sorted(NOT_MATCHING))
def test_pipeline_cloudformation_and_autoscaling_do_not_match(
    pattern: EventPattern, case: str
) -> None:
    assert not pattern.matches_event(cloudtrail_event(*NOT_MATCHING[case]))


@pytest.mark.parametrize(
    ("error_code", "message"),
    [
        ("AccessDenied", "User: arn:aws:iam::123456789012:user/alice is not authorized"),
        ("ValidationException", "Could not find endpoint"),
    ],
)
def test_a_call_that_returned_an_error_changed_nothing_and_does_not_match(
    pattern: EventPattern, error_code: str, message: str
) -> None:
    """CloudTrail records refused and invalid calls too, with ``errorCode`` and
    ``errorMessage`` ("CloudTrail record contents"): the endpoint did not change."""
    event = cloudtrail_event(*MATCHING["someone deletes the endpoint"])
    assert pattern.matches_event(event)
    event["detail"].update(errorCode=error_code, errorMessage=message)
    assert not pattern.matches_event(event)


def test_other_detail_types_do_not_match(pattern: EventPattern) -> None:
    event = cloudtrail_event(*MATCHING["an IAM user updates the endpoint"])
    state_change = copy.deepcopy(event)
    state_change["detail-type"] = "SageMaker Endpoint State Change"
    assert not pattern.matches_event(state_change)


def test_cfn_execution_role_name_follows_the_synthesizer() -> None:
    assert cfn_execution_role_name(new_stack()) == CFN_ROLE
    app = cdk.App(context={"@aws-cdk/core:bootstrapQualifier": "team1"})
    custom = cdk.Stack(app, "Custom", env=cdk.Environment(account=ACCOUNT, region="eu-west-1"))
    assert cfn_execution_role_name(custom) == f"cdk-team1-cfn-exec-role-{ACCOUNT}-eu-west-1"


def test_rule_targets_the_topic_and_the_topic_admits_only_this_rule() -> None:
    stack = new_stack()
    topic = sns.Topic(stack, "Topic")
    rule = EndpointChangeRule(
        stack,
        "Changes",
        topic=topic,
        key=kms.Key(stack, "Key"),
        endpoint_name=ENDPOINT,
        model_names=[MODEL],
    )
    template = Template.from_stack(stack)
    (resource,) = template.find_resources("AWS::Events::Rule").values()
    props = resource["Properties"]
    assert props["EventPattern"] == json.loads(json.dumps(rule.pattern))
    (target,) = props["Targets"]
    assert target["Arn"] == {"Ref": stack.get_logical_id(topic.node.default_child)}  # type: ignore[arg-type]
    assert "changed outside the pipeline" in target["InputTransformer"]["InputTemplate"]
    assert target["InputTransformer"]["InputPathsMap"]["detail-eventName"] == "$.detail.eventName"
    (policy,) = template.find_resources("AWS::SNS::TopicPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    rule_id = stack.get_logical_id(rule.rule.node.default_child)  # type: ignore[arg-type]
    assert statement["Condition"]["ArnEquals"] == {
        "aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}
    }


def test_undelivered_notifications_go_to_a_watched_dead_letter_queue() -> None:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    rule = EndpointChangeRule(
        stack, "Changes", topic=sns.Topic(stack, "Topic"), key=key, endpoint_name=ENDPOINT
    )
    template = Template.from_stack(stack)
    queue_id = stack.get_logical_id(rule.dead_letters.node.default_child)  # type: ignore[arg-type]
    rule_id = stack.get_logical_id(rule.rule.node.default_child)  # type: ignore[arg-type]
    (target,) = template.find_resources("AWS::Events::Rule")[rule_id]["Properties"]["Targets"]
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    queue = template.find_resources("AWS::SQS::Queue")[queue_id]["Properties"]
    key_id = stack.get_logical_id(key.node.default_child)  # type: ignore[arg-type]
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert queue["MessageRetentionPeriod"] == 14 * 86400
    (policy,) = template.find_resources("AWS::SQS::QueuePolicy").values()
    (allow,) = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "events.amazonaws.com"}
    assert allow["Action"] == "sqs:SendMessage"
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": ACCOUNT},
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [rule_id, "Arn"]}},
    }
    alarms = template.find_resources("AWS::CloudWatch::Alarm")
    depth, failed = (
        alarms[stack.get_logical_id(a.node.default_child)]["Properties"]  # type: ignore[arg-type]
        for a in rule.alarms
    )
    assert (failed["Namespace"], failed["MetricName"], failed["Statistic"]) == (
        "AWS/Events",
        "FailedInvocations",
        "Sum",
    )
    assert failed["Dimensions"] == [{"Name": "RuleName", "Value": {"Ref": rule_id}}]
    assert (failed["ComparisonOperator"], failed["Threshold"]) == (
        "GreaterThanOrEqualToThreshold",
        1,
    )
    assert failed["TreatMissingData"] == "notBreaching"  # sent only when not zero
    assert depth["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert depth["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}
    ]


# --- the trail -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trail_template() -> Template:
    stack = new_stack()
    key = kms.Key(stack, "Key")
    ChangeTrail(
        stack,
        "ChangeTrail",
        key=key,
        trail_name=trail_name_for("dev"),
        access_log_bucket=s3.Bucket(stack, "AccessLogs"),
        log_retention=cdk.Duration.days(400),
        noncurrent_version_expiry=cdk.Duration.days(30),
        removal_policy=cdk.RemovalPolicy.RETAIN,
        readers=[f"arn:aws:iam::{ACCOUNT}:role/operator"],
    )
    return Template.from_stack(stack)


TRAIL_ARN = f"arn:aws:cloudtrail:eu-west-1:{ACCOUNT}:trail/mlops-dev-changes"


def test_trail_is_encrypted_validated_and_regional(trail_template: Template) -> None:
    (trail,) = trail_template.find_resources("AWS::CloudTrail::Trail").values()
    props = trail["Properties"]
    assert props["TrailName"] == "mlops-dev-changes"
    assert props["IsLogging"] is True
    assert props["EnableLogFileValidation"] is True
    assert props["IsMultiRegionTrail"] is False
    assert "Key" in json.dumps(props["KMSKeyId"])
    assert props["EventSelectors"] == [
        {"IncludeManagementEvents": True, "ReadWriteType": "WriteOnly"}
    ]
    assert any("BucketPolicy" in d for d in trail["DependsOn"])


def test_trail_bucket_is_private_tls_only_and_expires_logs(trail_template: Template) -> None:
    buckets = trail_template.find_resources("AWS::S3::Bucket")
    (bucket,) = [b for b in buckets.values() if "LifecycleConfiguration" in b.get("Properties", {})]
    props = bucket["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "cloudtrail/"
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 400
    assert bucket["DeletionPolicy"] == "Retain"
    policies = trail_template.find_resources("AWS::S3::BucketPolicy")
    statements = [
        s for p in policies.values() for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    tls = [
        s for s in statements if s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
    ]
    assert tls
    assert all(s["Effect"] == "Deny" for s in tls)
    writes = {s["Sid"]: s for s in statements if s.get("Sid", "").startswith("CloudTrail")}
    assert set(writes) == {"CloudTrailAclCheck", "CloudTrailWrite"}
    for statement in writes.values():
        assert statement["Principal"] == {"Service": "cloudtrail.amazonaws.com"}
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == TRAIL_ARN
    assert writes["CloudTrailWrite"]["Condition"]["StringEquals"]["s3:x-amz-acl"] == (
        "bucket-owner-full-control"
    )


def test_key_policy_lets_only_this_trail_encrypt(trail_template: Template) -> None:
    (key,) = trail_template.find_resources("AWS::KMS::Key").values()
    statements = {s.get("Sid"): s for s in key["Properties"]["KeyPolicy"]["Statement"]}
    encrypt = statements["CloudTrailEncryptLogs"]
    assert encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"]["StringEquals"] == {"aws:SourceArn": TRAIL_ARN}
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"
    }
    assert statements["CloudTrailDescribeKey"]["Condition"] == {
        "StringEquals": {"aws:SourceArn": TRAIL_ARN}
    }
    readers = statements["TrailReadersDecryptLogs"]
    assert readers["Action"] == "kms:Decrypt"
    assert readers["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": [f"arn:aws:iam::{ACCOUNT}:role/operator"]
    }
    assert readers["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
