"""Names the stacks and the tools share (stack outputs, derived endpoint names).

Plain Python: the tools (preflight, smoke, review, cost) import these without aws_cdk.
"""

from __future__ import annotations

import re

from mlops_cdk.aws.facts import MAX_ENDPOINT_NAME_LENGTH

# The property that gives a resource its name, per resource type ("CloudFormation resource
# custom naming", CloudFormation Template Reference: "Each resource that supports custom names
# has its own property"): the types this package and its users deploy. Without it,
# CloudFormation generates the name from the stack name, the logical ID and a random string.
NAME_PROPERTIES: dict[str, str] = {
    "AWS::CloudTrail::Trail": "TrailName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::CodeBuild::Project": "Name",
    "AWS::CodePipeline::Pipeline": "Name",
    "AWS::CodeStarNotifications::NotificationRule": "Name",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::Events::Rule": "Name",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::SageMaker::Endpoint": "EndpointName",
    "AWS::SageMaker::EndpointConfig": "EndpointConfigName",
    "AWS::SageMaker::InferenceComponent": "InferenceComponentName",
    "AWS::SageMaker::Model": "ModelName",
    "AWS::SageMaker::ModelPackageGroup": "ModelPackageGroupName",
    "AWS::SageMaker::Pipeline": "PipelineName",
    "AWS::Scheduler::Schedule": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
}

# Stack outputs the tools read after a deploy.
BUCKET_OUTPUT = "ModelArtifactBucketName"  # <env>-Foundation
REPOSITORY_OUTPUT = "ModelImageRepositoryName"  # <env>-<service>-Registry
ALARM_TOPIC_OUTPUT = "AlarmTopicArn"  # <env>-<service>: the smoke test reads its subscriptions
BUDGET_TOPIC_OUTPUT = "BudgetTopicArn"  # <env>-Foundation: preflight reads its subscriptions
FOUNDATION_WATCH_TOPIC_OUTPUT = "FoundationWatchTopicArn"  # <env>-Foundation: the same
FLOW_LOG_OUTPUT = "FlowLogId"  # <env>-Foundation: preflight reads its delivery status
# The deployment pipeline's stack (in the tooling account) and what `make pipeline-check` reads.
PIPELINE_STACK_ID = "MlopsPipeline"
PIPELINE_TOPIC_OUTPUT = "NotificationTopicArn"
PIPELINE_RULE_OUTPUT = "NotificationRuleArn"


def endpoint_name_for(stack_name: str) -> str:
    """A SageMaker endpoint name derived from the (account/region-unique) stack name."""
    name = re.sub(r"[^a-zA-Z0-9-]+", "-", stack_name).strip("-")
    name = name[:MAX_ENDPOINT_NAME_LENGTH].rstrip("-")
    return name or "endpoint"


def trail_name_for(env: str) -> str:
    """The CloudTrail trail an environment's Foundation creates (``change_detection.trail:
    create``): a fixed name, which its key and bucket policies name."""
    return f"mlops-{env}-changes"


def model_package_group_name(env: str, service: str) -> str:
    """The SageMaker model package group of a service's registered model versions
    (``<env>-<service>``; the retraining pipeline registers into it, promotion reads it)."""
    return f"{env}-{service}"
