"""A service's scheduled drift check: an EventBridge Scheduler schedule invokes a function in
the VPC that compares the last window of data capture with the service's baseline and publishes
per-feature PSI (and KS for numeric features), the share of drifted features and the number of
records used; a drift alarm is derived from the same settings (nothing typed twice).

The code is ``mlops_cdk/functions/drift`` (pure Python, boto3 from the runtime). EventBridge
Scheduler invokes Lambda functions asynchronously ("Using Lambda with Amazon EventBridge
Scheduler", AWS Lambda Developer Guide), so two retry layers apply: the schedule's retry policy
covers deliveries that fail (throttling, a missing permission), the function's asynchronous
retries cover runs that fail. A failed run is not retried (the next scheduled run reads the
window again) and both failure kinds land in one KMS-encrypted queue.

Nobody reads a queue unprompted, and a check that fails every hour publishes nothing that the
drift alarm (missing data ignored) would notice. So the queue's depth and the function's errors
are alarms (:class:`~mlops_cdk.constructs.watch.FailureWatch`), and a heartbeat alarm fires when
no run has completed for ``heartbeat`` (missing data breaching). The function, its queue, log
group, security group, policy and watch are a
:class:`~mlops_cdk.constructs.function.WatchedFunction`; the role, the schedule and the drift
alarms are the check's own.
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
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from mlops_cdk.aws.acknowledgements import acknowledge_wildcard_resource
from mlops_cdk.aws.facts import (
    DRIFT_BASELINE_METRIC,
    DRIFT_CONTENT_TYPES,
    DRIFT_KS_METRIC,
    DRIFT_MALFORMED_METRIC,
    DRIFT_NAMESPACE,
    DRIFT_PSI_METRIC,
    DRIFT_RECORDS_METRIC,
    DRIFT_SHARE_METRIC,
)
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
from mlops_cdk.props.drift import MAX_HEARTBEAT_HOURS, DriftSpec, features_variable
from mlops_cdk.props.fields import checked_arguments

__all__ = [
    "BASELINE_METRIC",
    "CODE_DIR",
    "CONTENT_TYPES",
    "KS_METRIC",
    "MALFORMED_METRIC",
    "MAX_HEARTBEAT_HOURS",
    "METRICS_NAMESPACE",
    "PSI_METRIC",
    "RECORDS_METRIC",
    "SHARE_METRIC",
    "UNREADABLE_SHARE",
    "DriftCheck",
    "DriftSpec",
]

CODE_DIR = asset_dir("drift")
METRICS_NAMESPACE = DRIFT_NAMESPACE
# Metric names the function publishes (mlops_cdk/functions/drift/drift.py).
SHARE_METRIC = DRIFT_SHARE_METRIC
PSI_METRIC = DRIFT_PSI_METRIC
KS_METRIC = DRIFT_KS_METRIC
RECORDS_METRIC = DRIFT_RECORDS_METRIC
MALFORMED_METRIC = DRIFT_MALFORMED_METRIC
BASELINE_METRIC = DRIFT_BASELINE_METRIC
CONTENT_TYPES = DRIFT_CONTENT_TYPES
# The capture alarm fires when at least this share of a window's captured lines is unreadable.
UNREADABLE_SHARE = 0.5


class DriftCheck(FunctionParts, Construct):
    """The drift check of one endpoint.

    Reads ``capture_prefix`` (the endpoint's data capture) and ``baseline_key`` of ``bucket``
    and nothing else, decrypts through S3 only, and puts metrics in :data:`METRICS_NAMESPACE`
    only. Its settings are ``spec`` (:class:`~mlops_cdk.props.drift.DriftSpec`, which checks
    itself; default ``DriftSpec()``): runs ``every`` (``spec.schedule``) over the last
    ``spec.window_hours`` whole hours. Exposes the function, its role, the schedule, the
    failure queue, ``alarm`` (share of drifted features at least
    ``spec.drifted_share_threshold``; missing data ignored), ``baseline_alarm`` (the baseline
    could not be read), ``heartbeat_alarm`` (no run completed for ``heartbeat``, default two
    periods), ``capture_alarm`` (at least :data:`UNREADABLE_SHARE` of the window's captured
    lines could not be read) and ``watch`` (:class:`~mlops_cdk.constructs.watch.FailureWatch`:
    records in the failure queue, function errors); ``alarms`` lists them all.

    ``role_path`` must be a path the key policy admits (the function and the schedule decrypt
    and write the encrypted queue and read SSE-KMS objects with ``key``)."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey,
        vpc: ec2.IVpc,
        subnets: Sequence[ec2.ISubnet],
        bucket: s3.IBucket,
        capture_prefix: str,
        baseline_key: str,
        endpoint_name: EndpointName,
        spec: DriftSpec | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        role_path: str = "/",
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.spec = spec = spec if spec is not None else DriftSpec()
        self.every = cdk.Duration.minutes(spec.period_minutes)
        self.heartbeat = cdk.Duration.hours(spec.heartbeat)
        self.endpoint_name = endpoint_name
        self.role = self._role(role_path)
        self.watched = self._watched_function(
            key=key,
            placement=VpcPlacement(
                vpc,
                subnets=subnets,
                description="Drift check: HTTPS to the S3 and CloudWatch endpoints only",
                egress="HTTPS to the S3 gateway and VPC interface endpoints (no internet route)",
            ),
            policy=self._function_policy(key, bucket, capture_prefix, baseline_key),
            environment={
                "BUCKET": bucket.bucket_name,
                "CAPTURE_PREFIX": capture_prefix,
                "ENDPOINT_NAME": endpoint_name,
                "BASELINE_KEY": baseline_key,
                "WINDOW_HOURS": str(spec.window_hours),
                "MIN_RECORDS": str(spec.min_records),
                "FEATURES": features_variable(spec.features or ()),
                "PSI_THRESHOLD": f"{spec.psi_threshold:g}",
                "CONTENT_TYPE": spec.content_type,
                "METRICS_NAMESPACE": METRICS_NAMESPACE,
            },
            reserved_concurrency=reserved_concurrency,
            log_retention=log_retention,
            removal_policy=removal_policy,
        )
        self.schedule = self._schedule(key, role_path, self.every)
        self._alarms(spec.drifted_share_threshold)
        self._acknowledge()

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
        """The function and its shared infrastructure, under the id "Default": its resources
        keep the logical ids they had before the shared construct existed (see
        :mod:`mlops_cdk.constructs.function`)."""
        return WatchedFunction(
            self,
            "Default",
            subject=f"Drift check of {self.endpoint_name}",
            description=f"Drift check of {self.endpoint_name}: PSI/KS of data capture vs baseline",
            code=lambda_.Code.from_asset(str(CODE_DIR), exclude=list(ASSET_EXCLUDE)),
            handler="drift.handler",
            role=self.role,
            key=key,
            policy=policy,
            invoked_by="only this service's schedule invokes the function (its role's policy), "
            "once per period.",
            vpc=placement,
            environment=environment,
            timeout=cdk.Duration.minutes(5),
            memory_size=512,
            reserved_concurrency=reserved_concurrency,
            # A failed run is not retried: the next scheduled run reads the window again.
            invocation=AsyncInvocation(
                retry_attempts=0, max_event_age=shorter(self.every, MAX_ASYNC_EVENT_AGE)
            ),
            log_retention=log_retention,
            removal_policy=removal_policy,
            failure_queue_id="Failures",
            replay='See docs/runbooks/replay-failures.md, "When the drift check fails".',
        )

    def _role(self, role_path: str) -> iam.Role:
        """The function's role, assumable by Lambda of this account only."""
        return lambda_role(
            self, description=f"Drift check of endpoint {self.endpoint_name}", path=role_path
        )

    def _function_policy(
        self, key: kms.IKey, bucket: s3.IBucket, capture_prefix: str, baseline_key: str
    ) -> FunctionPolicy:
        """Read the capture and the baseline (decrypting through S3 only), publish drift
        metrics (the shared construct adds logs, failure queue and VPC)."""
        stack = cdk.Stack.of(self)
        baseline_dir = baseline_key.rsplit("/", 1)[0] + "/"
        self.capture_objects = bucket.arn_for_objects(f"{capture_prefix}*")
        return FunctionPolicy(
            description="Drift check: read capture and baseline, publish drift metrics",
            statements=[
                iam.PolicyStatement(
                    sid="ReadCaptureAndBaseline",
                    actions=["s3:GetObject"],
                    resources=[self.capture_objects, bucket.arn_for_objects(baseline_key)],
                ),
                list_under("ListCaptureAndBaseline", bucket, [capture_prefix, baseline_dir]),
                iam.PolicyStatement(
                    sid="DecryptThroughS3",
                    actions=["kms:Decrypt"],
                    resources=[key.key_arn],
                    conditions={"StringEquals": {"kms:ViaService": via_service(stack, "s3")}},
                ),
                iam.PolicyStatement(
                    sid="PutDriftMetrics",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": METRICS_NAMESPACE}},
                ),
            ],
            wildcard_actions=f"cloudwatch:PutMetricData, limited to the {METRICS_NAMESPACE} "
            "namespace by the cloudwatch:namespace condition",
        )

    def _schedule(self, key: kms.IKey, role_path: str, every: cdk.Duration) -> scheduler.Schedule:
        scheduled = schedule_function(
            self,
            function=self.function,
            failures=self.failures,
            key=key,
            every=every,
            role_path=role_path,
            subject=f"drift check of {self.endpoint_name}",
            invoke_sid="InvokeDriftCheck",
        )
        self.scheduler_role, self.scheduler_policy = scheduled.role, scheduled.policy
        return scheduled.schedule

    def metric(
        self,
        metric_name: str,
        *,
        feature: str | None = None,
        statistic: str = "Maximum",
        period: cdk.Duration | None = None,
    ) -> cloudwatch.Metric:
        """A metric the function publishes (per feature for PSI and KS), by default over one
        period of the schedule."""
        dimensions = {"EndpointName": self.endpoint_name}
        if feature is not None:
            dimensions["Feature"] = feature
        return cloudwatch.Metric(
            namespace=METRICS_NAMESPACE,
            metric_name=metric_name,
            dimensions_map=dimensions,
            statistic=statistic,
            period=period or self.every,
        )

    def _alarms(self, threshold: float) -> None:
        self._drift_alarms(threshold)
        self.heartbeat_alarm = self._heartbeat_alarm()
        self.capture_alarm = self._capture_alarm()

    def _heartbeat_alarm(self) -> cloudwatch.Alarm:
        # BaselineUnavailable (0 or 1) is published by every run that completes, whatever the
        # window held: its sample count is the heartbeat. Hourly periods, every one of them
        # empty (missing data breaching) for the whole heartbeat: CloudWatch allows up to 7 days
        # of evaluation for periods of an hour or more (PutMetricAlarm, "Period", CloudWatch API
        # Reference). A run that fails publishes nothing: this alarm and the watch both fire.
        hours = int(self.heartbeat.to_hours())
        return self.metric(
            BASELINE_METRIC, statistic="SampleCount", period=cdk.Duration.hours(1)
        ).create_alarm(
            self,
            "HeartbeatAlarm",
            alarm_description=f"Drift check of {self.endpoint_name}: no run completed in the "
            f"last {hours} hours (runs every {int(self.every.to_hours())} h); drift is not "
            "being checked. See the function's errors and its failure queue.",
            threshold=1,
            evaluation_periods=hours,
            datapoints_to_alarm=hours,
            comparison_operator=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.BREACHING,
        )

    def _capture_alarm(self) -> cloudwatch.Alarm:
        # A run that cannot read the capture completes (every line malformed is counted, not
        # raised), so neither the heartbeat nor the watch fires, and the drift alarm ignores the
        # missing share: clients sending a content type the check does not parse would leave it
        # blind. The share of the window's lines it could not read; 0 when it read none.
        # Metric math's IF ("Metric math syntax and functions", CloudWatch User Guide,
        # https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
        share = cloudwatch.MathExpression(
            expression="IF(malformed + used > 0, malformed / (malformed + used), 0)",
            using_metrics={
                "malformed": self.metric(MALFORMED_METRIC),
                "used": self.metric(RECORDS_METRIC),
            },
            period=self.every,
            label="Share of captured lines the drift check could not read",
        )
        return share.create_alarm(
            self,
            "CaptureAlarm",
            alarm_description=f"Drift check of {self.endpoint_name}: at least "
            f"{UNREADABLE_SHARE:.0%} of the window's captured requests could not be read as "
            "rows of the baseline's features (the run's log shows the first one); drift is not "
            "checked on them",
            threshold=UNREADABLE_SHARE,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    def _drift_alarms(self, threshold: float) -> None:
        # One datapoint per run and period. A window with too few records publishes no share:
        # IGNORE keeps the alarm's state (a quiet hour is no evidence either way, and a drifted
        # model stays in ALARM instead of flapping and re-triggering retraining).
        self.alarm = self.metric(SHARE_METRIC).create_alarm(
            self,
            "Alarm",
            alarm_description=f"Drift: at least {threshold:.0%} of the features of "
            f"{self.endpoint_name} drifted (PSI) over the last window",
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.IGNORE,
        )
        self.baseline_alarm = self.metric(BASELINE_METRIC).create_alarm(
            self,
            "BaselineAlarm",
            alarm_description=f"Drift check of {self.endpoint_name}: the baseline is missing or "
            "unreadable (publish it with make baseline), drift is not checked",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )

    @property
    def alarms(self) -> list[cloudwatch.Alarm]:
        """Every alarm of the check: drift, baseline, heartbeat, unreadable capture, then the
        watch's."""
        return [
            self.alarm,
            self.baseline_alarm,
            self.heartbeat_alarm,
            self.capture_alarm,
            *self.watch.alarms,
        ]

    def _acknowledge(self) -> None:
        acknowledge_wildcard_resource(
            self.policy,
            self.capture_objects,
            "Read-only access to this endpoint's data-capture prefix: SageMaker names capture "
            "objects by endpoint, variant, hour and a random suffix, unknown in advance.",
        )
