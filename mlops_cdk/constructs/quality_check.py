"""A service's scheduled quality check: an EventBridge Scheduler schedule invokes a function in
the VPC that joins the endpoint's captured predictions with the ground-truth labels delivered
under ``ground-truth/<service>/``, computes the configured metrics (accuracy, precision, recall,
F1, AUC, RMSE, MAE) and publishes them to CloudWatch, where the service's quality alarms watch
them (see docs/concepts/quality.md).

The code is ``mlops_cdk/functions/quality`` (pure Python, boto3 from the runtime). The function,
its failure queue, encrypted log group, security group, policy and failure watch are a
:class:`~mlops_cdk.constructs.function.WatchedFunction`; the schedule is the drift check's
(:func:`~mlops_cdk.constructs.scheduled.schedule_function`). A failed run is not retried (the
next run reads the window again).

The heartbeat: every completed run publishes ``NewMatchedLabels`` (labels delivered since the
previous run that matched a prediction). Its hourly sums, every one below 1 (missing data
breaching) for ``label_heartbeat_hours``, fire the heartbeat alarm: labels stopped arriving,
stopped matching (callers no longer pass an InferenceId), or the check stopped running.

Least privilege: read the capture prefix and the labels prefix (decrypting through S3 only), and
``cloudwatch:PutMetricData`` only in the check's namespace (``cloudwatch:namespace`` condition,
"Using condition keys to limit access to CloudWatch namespaces", Amazon CloudWatch User Guide,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html):
that statement is also what the pack's ``AlarmMetricPublished`` rule reads to accept alarms on
this namespace.
"""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resources
from mlops_cdk.constructs.arguments import EndpointName
from mlops_cdk.constructs.function import (
    MAX_ASYNC_EVENT_AGE,
    AsyncInvocation,
    FunctionParts,
    FunctionPolicy,
    VpcPlacement,
    WatchedFunction,
    via_service,
)
from mlops_cdk.constructs.roles import lambda_role, list_under
from mlops_cdk.constructs.scheduled import schedule_function, shorter
from mlops_cdk.functions import ASSET_EXCLUDE, asset_dir
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.quality import (
    NEW_MATCHED_METRIC,
    QualityCheckSpec,
    dimensions_variable,
    ground_truth_prefix,
)

CODE_DIR = asset_dir("quality")
# Durations made once: each cdk.Duration.<unit>() call is a round trip to jsii (immutable).
TIMEOUT = cdk.Duration.minutes(10)
ONE_HOUR = cdk.Duration.hours(1)


class QualityCheck(FunctionParts, Construct):
    """The quality check of one service's endpoint (``spec``: :class:`QualityCheckSpec`).

    Exposes the function, ``role``, ``schedule``, the failure queue, ``dimensions`` (of every
    metric it publishes), ``heartbeat_alarm`` and ``watch`` (records in the failure queue,
    function errors); ``alarms`` lists them all. ``metric(name)`` is a metric it publishes.
    ``role_path`` must be a path the key policy admits (the function and the schedule use
    ``key`` for the queue, the logs and the SSE-KMS objects they read)."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: QualityCheckSpec,
        service: str,
        endpoint_name: EndpointName,
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        bucket: s3.IBucket,
        capture_prefix: str,
        labels_prefix: str | None = None,
        variants: Sequence[str] = (),
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        role_path: str = "/",
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec, self.endpoint_name = spec, endpoint_name
        self.every = cdk.Duration.hours(spec.period_hours)
        self.dimensions = spec.metric_dimensions(service)
        labels = labels_prefix or ground_truth_prefix(service)
        self.role = self._role(role_path)
        self.watched = self._watched_function(
            key=key,
            placement=VpcPlacement(
                vpc,
                subnets=subnets,
                description="Quality check: HTTPS to the S3 and CloudWatch endpoints only",
                egress="HTTPS to the S3 gateway and VPC interface endpoints (no internet route)",
            ),
            policy=self._function_policy(key, bucket, capture_prefix, labels),
            environment=self._environment(bucket, capture_prefix, labels, variants),
            reserved_concurrency=reserved_concurrency,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        scheduled = schedule_function(
            self,
            function=self.function,
            failures=self.failures,
            key=key,
            every=self.every,
            role_path=role_path,
            subject=f"quality check of {endpoint_name}",
            invoke_sid="InvokeQualityCheck",
        )
        self.schedule, self.scheduler_role = scheduled.schedule, scheduled.role
        self.heartbeat_alarm = self._heartbeat_alarm()

    def _environment(
        self, bucket: s3.IBucket, capture_prefix: str, labels: str, variants: Sequence[str]
    ) -> dict[str, str]:
        """The function's settings (``mlops_cdk/functions/quality/quality.py``)."""
        spec = self.spec
        return {
            "BUCKET": bucket.bucket_name,
            "CAPTURE_PREFIX": capture_prefix,
            "LABELS_PREFIX": labels,
            "ENDPOINT_NAME": self.endpoint_name,
            "VARIANTS": ",".join(spec.variants or variants),
            "WINDOW_HOURS": str(spec.window_hours),
            "LABEL_DELAY_HOURS": str(spec.label_delay_hours),
            "PERIOD_HOURS": str(spec.period_hours),
            "PROBLEM": spec.problem,
            "METRICS": ",".join(spec.metrics),
            "THRESHOLD": f"{spec.threshold:g}",
            "MIN_LABELS": str(spec.min_labels),
            "METRICS_NAMESPACE": spec.namespace,
            "DIMENSIONS": dimensions_variable(self.dimensions),
        }

    def _watched_function(
        self,
        *,
        key: kms.IKey,
        placement: VpcPlacement,
        policy: FunctionPolicy,
        environment: dict[str, str],
        reserved_concurrency: int | None,
        log_retention: logs.RetentionDays,
        removal_policy: cdk.RemovalPolicy,
    ) -> WatchedFunction:
        return WatchedFunction(
            self,
            "Default",
            subject=f"Quality check of {self.endpoint_name}",
            description=f"Quality check of {self.endpoint_name}: captured predictions vs "
            "ground-truth labels",
            code=lambda_.Code.from_asset(str(CODE_DIR), exclude=list(ASSET_EXCLUDE)),
            handler="quality.handler",
            role=self.role,
            key=key,
            policy=policy,
            invoked_by="only this service's schedule invokes the function (its role's policy), "
            "once per period.",
            vpc=placement,
            environment=environment,
            timeout=TIMEOUT,
            memory_size=1024,
            reserved_concurrency=reserved_concurrency,
            # A failed run is not retried: the next scheduled run reads the window again.
            invocation=AsyncInvocation(
                retry_attempts=0, max_event_age=shorter(self.every, MAX_ASYNC_EVENT_AGE)
            ),
            log_retention=log_retention,
            removal_policy=removal_policy,
            replay='See docs/runbooks/replay-failures.md, "When the quality check fails".',
        )

    def _role(self, role_path: str) -> iam.Role:
        """The function's role, assumable by Lambda of this account only."""
        return lambda_role(
            self, description=f"Quality check of endpoint {self.endpoint_name}", path=role_path
        )

    def _function_policy(
        self, key: kms.IKey, bucket: s3.IBucket, capture_prefix: str, labels_prefix: str
    ) -> FunctionPolicy:
        """Read the capture and the labels (decrypting through S3 only), publish the metrics
        in the check's namespace only."""
        stack = cdk.Stack.of(self)
        self.readable_objects = [
            bucket.arn_for_objects(f"{capture_prefix}*"),
            bucket.arn_for_objects(f"{labels_prefix}*"),
        ]
        namespace = self.spec.namespace
        return FunctionPolicy(
            description="Quality check: read capture and labels, publish quality metrics",
            statements=[
                iam.PolicyStatement(
                    sid="ReadCaptureAndLabels",
                    actions=["s3:GetObject"],
                    resources=self.readable_objects,
                ),
                list_under("ListCaptureAndLabels", bucket, [capture_prefix, labels_prefix]),
                iam.PolicyStatement(
                    sid="DecryptThroughS3",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": via_service(stack, "s3")}},
                ),
                iam.PolicyStatement(
                    sid="PutQualityMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
                ),
            ],
            wildcard_actions=f"cloudwatch:PutMetricData, limited to the {namespace} namespace "
            "by the cloudwatch:namespace condition",
        )

    def metric(
        self, metric_name: str, *, statistic: str = "Maximum", period: cdk.Duration | None = None
    ) -> cloudwatch.Metric:
        """A metric the function publishes, by default over one period of the schedule."""
        return cloudwatch.Metric(
            namespace=self.spec.namespace,
            metric_name=metric_name,
            dimensions_map=dict(self.dimensions),
            statistic=statistic,
            period=period or self.every,
        )

    def _heartbeat_alarm(self) -> cloudwatch.Alarm:
        hours = self.spec.label_heartbeat_hours
        reason = (
            "Read-only access to this service's data-capture and ground-truth prefixes: "
            "SageMaker and the label deliveries name objects by hour and a random suffix."
        )
        acknowledge_wildcard_resources(self.policy, dict.fromkeys(self.readable_objects, reason))
        return self.metric(NEW_MATCHED_METRIC, statistic="Sum", period=ONE_HOUR).create_alarm(
            self,
            "LabelHeartbeatAlarm",
            alarm_description=f"Quality check of {self.endpoint_name}: no new ground-truth label "
            f"matched a prediction in the last {hours} hours (labels not delivered, callers not "
            "passing InferenceId, or the check not running): model quality is not measured.",
            threshold=1,
            evaluation_periods=hours,
            datapoints_to_alarm=hours,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """The label heartbeat, then the watch's (failure queue, errors)."""
        return [self.heartbeat_alarm, *self.watch.alarms]
