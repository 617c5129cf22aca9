"""Who may do what around one asynchronous endpoint: its notification topics, what SageMaker
does with the execution role (read requests, write results, publish notifications), and who may
submit requests.

AWS facts (SageMaker developer guide):

- "Complete the prerequisites" (asynchronous endpoints,
  https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-create-endpoint-prerequisites.html):
  the execution role needs S3 access to the bucket and ``sns:Publish`` on the topics.
- "Create an asynchronous endpoint"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-create-endpoint-create-endpoint.html):
  CreateEndpoint (and UpdateEndpoint) sends a test notification to check the permissions: the
  endpoint must wait for the policy that allows publishing.
- "Check prediction results"
  (https://docs.aws.amazon.com/sagemaker/latest/dg/async-inference-check-predictions.html):
  "your IAM role must have sns:Publish permissions".
- A topic encrypted with a customer-managed key needs its publisher to use the key; the
  execution role's key permissions (:class:`~mlops_cdk.constructs.roles.SageMakerExecutionRole`)
  and the key policy's role path cover it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resource
from mlops_cdk.constructs.roles import list_under
from mlops_cdk.props.async_inference import AsyncNotifications
from mlops_cdk.props.fields import checked_arguments

INVOKE_ASYNC_ACTIONS = ("sagemaker:InvokeEndpointAsync",)
SUBMIT_OBJECT_ACTIONS = ("s3:AbortMultipartUpload", "s3:PutObject")
# An SSE-KMS object: writing it needs a data key, reading it decrypts (deploy-facts, KMS).
SUBMIT_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")


class AsyncNotificationTopics(Construct):
    """The success and error topics of an asynchronous endpoint (each only when ``spec`` asks
    for it): encrypted with ``key``, TLS only. ``topics`` lists those created."""

    @checked_arguments
    def __init__(
        self, scope: Construct, construct_id: str, *, key: kms.IKey, spec: AsyncNotifications
    ) -> None:
        super().__init__(scope, construct_id)
        self.success_topic = self._topic("Success", key) if spec.success else None
        self.error_topic = self._topic("Error", key) if spec.error else None
        self.include_response = spec.include_response
        self.topics = [t for t in (self.success_topic, self.error_topic) if t is not None]
        for label, topic in (("Success", self.success_topic), ("Error", self.error_topic)):
            if topic is not None:
                cdk.CfnOutput(
                    self,
                    f"{label}TopicArn",
                    value=topic.topic_arn,
                    description=f"Asynchronous inference {label.lower()} notifications "
                    "(subscribe here)",
                )

    def _topic(self, label: str, key: kms.IKey) -> sns.Topic:
        return sns.Topic(
            self,
            label,
            display_name=f"Asynchronous inference {label.lower()} notifications",
            master_key=key,
            enforce_ssl=True,
        )


class AsyncExecutionAccess(Construct):
    """What SageMaker does as the execution ``role`` for an asynchronous endpoint: read request
    objects under ``input_prefix``, write results under ``output_prefix`` and
    ``failure_prefix`` of ``bucket``, publish to ``topics``. A managed policy attached to the
    role (the key permissions are the role's own); the endpoint must depend on ``policy``."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role: iam.IRole,
        bucket: s3.IBucket,
        input_prefix: str,
        output_prefix: str,
        failure_prefix: str,
        topics: Sequence[sns.ITopic] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        inputs = bucket.arn_for_objects(f"{input_prefix}*")
        results = [bucket.arn_for_objects(f"{p}*") for p in (output_prefix, failure_prefix)]
        statements = [
            iam.PolicyStatement(
                sid="ReadAsyncRequests", actions=["s3:GetObject"], resources=[inputs]
            ),
            iam.PolicyStatement(
                sid="WriteAsyncResults", actions=list(SUBMIT_OBJECT_ACTIONS), resources=results
            ),
        ]
        if topics:
            statements.append(
                iam.PolicyStatement(
                    sid="PublishAsyncNotifications",
                    actions=["sns:Publish"],
                    resources=[t.topic_arn for t in topics],
                )
            )
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="SageMaker asynchronous inference: this service's prefixes and topics",
            roles=[role],
            statements=statements,
        )
        acknowledge_wildcard_resource(
            self.policy,
            inputs,
            "Read-only access under this service's asynchronous input prefix: request objects "
            "are named by their submitters.",
        )
        for resource in results:
            acknowledge_wildcard_resource(
                self.policy,
                resource,
                "Write-only access under this service's asynchronous output or failure prefix: "
                "SageMaker names result objects by inference id.",
            )


class AsyncSubmitters(Construct):
    """Roles of this account that may submit requests to one asynchronous endpoint, and nobody
    else: write request objects under ``input_prefix``, read (and list, so that a result not
    written yet is a 404, not a 403) results under ``output_prefix`` and ``failure_prefix`` of
    ``bucket`` (SSE-KMS with ``key``: only through S3), and call
    ``sagemaker:InvokeEndpointAsync`` on ``endpoint_arn`` only.

    Granted on the identity side: one customer-managed policy attached to each role (also to
    roles made elsewhere, given as ARNs). The key policy must already admit the roles for S3
    use (the environment's publishers are admitted; see docs/concepts/serving-modes.md,
    "Asynchronous endpoints", for cross-account callers)."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_arn: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        input_prefix: str,
        output_prefix: str,
        failure_prefix: str,
        role_arns: Sequence[str] = (),
        roles: Sequence[iam.IRole] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.roles = [
            *roles,
            *(
                iam.Role.from_role_arn(self, f"Submitter{i}", arn, mutable=True)
                for i, arn in enumerate(role_arns)
            ),
        ]
        inputs = bucket.arn_for_objects(f"{input_prefix}*")
        results = [bucket.arn_for_objects(f"{p}*") for p in (output_prefix, failure_prefix)]
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="Submit requests to this service's asynchronous endpoint, read results",
            roles=self.roles,
            statements=self._statements(
                endpoint_arn, bucket, key, inputs, results, (output_prefix, failure_prefix)
            ),
        )
        for resource in (inputs, *results):
            acknowledge_wildcard_resource(
                self.policy,
                resource,
                "Objects under this service's asynchronous input (write) or result (read) "
                "prefixes: their names are per request.",
            )

    def _statements(  # noqa: PLR0917 - the policy's parts
        self,
        endpoint_arn: str,
        bucket: s3.IBucket,
        key: kms.IKey,
        inputs: str,
        results: list[str],
        result_prefixes: tuple[str, str],
    ) -> list[iam.PolicyStatement]:
        """Invoke, write requests, read and list results, use the key through S3."""
        stack = cdk.Stack.of(self)
        return [
            iam.PolicyStatement(
                sid="InvokeEndpointAsync",
                actions=list(INVOKE_ASYNC_ACTIONS),
                resources=[endpoint_arn],
            ),
            iam.PolicyStatement(
                sid="WriteRequests", actions=list(SUBMIT_OBJECT_ACTIONS), resources=[inputs]
            ),
            iam.PolicyStatement(sid="ReadResults", actions=["s3:GetObject"], resources=results),
            # Polling for a result that is not there yet: without s3:ListBucket, S3 answers
            # 403 instead of 404 for a missing key (HeadObject / GetObject, "Permissions",
            # Amazon S3 API Reference,
            # https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
            list_under("ListResults", bucket, result_prefixes),
            iam.PolicyStatement(
                sid="UseKeyThroughS3",
                actions=list(SUBMIT_KEY_ACTIONS),
                resources=[key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"s3.{stack.region}.amazonaws.com"}},
            ),
        ]


@dataclass(frozen=True)
class AsyncOutput:
    """Where an asynchronous endpoint writes (``WeightedEndpoint(async_output=...)``): results
    under ``s3://<bucket>/<output_prefix>``, failures under ``<failure_prefix>``, both
    encrypted with the endpoint's key; notifications to ``topics``; the per-instance
    concurrency. The endpoint waits for ``policies`` (CreateEndpoint sends a test notification
    and reads/writes with the execution role)."""

    bucket: s3.IBucket
    output_prefix: str
    failure_prefix: str
    topics: AsyncNotificationTopics | None = None
    max_concurrent_invocations_per_instance: int | None = None
    policies: Sequence[iam.IManagedPolicy] = ()

    def property(self, key: kms.IKey) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty:
        """The endpoint config's ``AsyncInferenceConfig`` (SageMaker API reference,
        "AsyncInferenceOutputConfig": S3OutputPath, S3FailurePath, KmsKeyId,
        NotificationConfig)."""
        topics = self.topics
        notification = None
        if topics is not None and topics.topics:
            included = [
                name
                for name, topic in (
                    ("SUCCESS_NOTIFICATION_TOPIC", topics.success_topic),
                    ("ERROR_NOTIFICATION_TOPIC", topics.error_topic),
                )
                if topic is not None and topics.include_response
            ]
            notification = sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                success_topic=topics.success_topic.topic_arn if topics.success_topic else None,
                error_topic=topics.error_topic.topic_arn if topics.error_topic else None,
                include_inference_response_in=included or None,
            )
        client = None
        if self.max_concurrent_invocations_per_instance is not None:
            client = sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                max_concurrent_invocations_per_instance=self.max_concurrent_invocations_per_instance
            )
        return sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
            output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                s3_output_path=self.bucket.s3_url_for_object(self.output_prefix.rstrip("/")),
                s3_failure_path=self.bucket.s3_url_for_object(self.failure_prefix.rstrip("/")),
                kms_key_id=key.key_arn,
                notification_config=notification,
            ),
            client_config=client,
        )
