"""The SageMaker pack's rules, one module each (``MlopsSageMaker-<Rule>``: fails when ...).

- ``ModelVpc``: a model has no VPC config.
- ``ModelNetworkIsolation``: a model does not enable network isolation.
- ``NoFullAccess``: a role or policy grants AmazonSageMakerFullAccess, ``sagemaker:*`` or ``*``.
- ``EndpointConfigKms``: an endpoint config accepts a KMS key but has none.
- ``DataCaptureKms``: data capture is enabled without a KMS key.
- ``ProdInstanceCount``: a production instance variant has fewer than 2 instances.
- ``VariantAutoscaling``: an instance variant of a production endpoint has no scalable target.
- ``ProdDeploymentConfig``: a production endpoint has no blue/green or rolling update policy.
- ``EndpointPrivateDns``: a VPC interface endpoint has private DNS disabled.
- ``EndpointOpenIngress``: an interface endpoint's security group admits 0.0.0.0/0 or ::/0.
- ``AlarmTopicCloudWatch``: an alarm notifies an SNS topic of its stack whose topic policy or KMS
  key policy does not let cloudwatch.amazonaws.com publish.
- ``UtilizationThreshold``: a CPU/GPU utilization alarm's threshold ignores that SageMaker sums
  the metric over the instance's vCPUs/GPUs.
- ``DeploymentStepSize``: a canary / linear step breaks SageMaker's 50 % / 10-50 % limits for
  some instance count the variant can scale to.
- ``DeploymentTimeout``: an endpoint's update policy gives the update no more time than its
  baking periods and termination wait.
- ``RollbackBakingPeriod``: an endpoint has rollback alarms but no baking period.
- ``KeyGrantForAwsResource``: a key policy allows kms:CreateGrant to principals other than AWS
  services without ``kms:GrantIsForAWSResource``.
- ``AlarmMetricPublished``: an alarm watches a metric that nothing publishes (such as
  ``Invocations`` of an asynchronous endpoint).
- ``RolePoliciesFirst``: a resource AWS validates with a role at creation (model, function in a
  VPC, state machine, pipeline) does not wait for every policy attached to that role.
- ``RollbackAlarmsReadable``: an endpoint's rollback alarms are not describable by its models'
  execution role (cloudwatch:DescribeAlarms).
- ``EndpointConfigMetrics``: an instance-backed endpoint config leaves MetricsConfig (detailed
  observability, enhanced metrics) to AWS's default, or gives a frequency AWS rejects.
- ``FailureDestinationWatched``: a failure queue, a Lambda function or an EventBridge rule with
  targets has no alarm with an action on its depth, Errors or FailedInvocations in its stack.
- ``ModelArtifactsWriteOnce``: a bucket policy lets principals write model artifacts without
  denying writes that lack If-None-Match and deletes (except by named principals).
- ``KeyUseBounded``: a key policy lets an AWS service use the key with no condition, or roles
  matched by a wildcard ARN without ``kms:ViaService``.
- ``VpcEndpointPolicyBounded``: a VPC endpoint has no policy or allows every action on every
  resource without bounding the resources to an account.
- ``AsyncOutputEncrypted``: an asynchronous endpoint config's results, failures or notifications
  are not KMS-encrypted, or its results are written outside the app's buckets.
- ``AsyncWakeFromZero``: an asynchronous endpoint's variant can scale to zero without a step
  policy on ``HasBacklogWithoutCapacity`` that wakes it.
- ``ModelImageSource``: a model's container image is neither in an ECR repository of its own
  account nor one AWS provides, or the model has more than 15 containers.
- ``TransformJobProtected``: a state machine runs a transform job without KMS keys for its volume
  and output, or with a model that has no VPC or no network isolation.
- ``BatchStateMachineAlarmed``: a state machine that runs transform jobs has no alarm with an
  action on failed, timed-out or aborted executions.
- ``ComponentFit``: an endpoint's inference components at their maximum copies need more vCPUs,
  memory or accelerators than its fleet has at its maximum instance count.
- ``ComponentWakeFromZero``: an inference component can scale to zero copies without a step
  policy on ``NoCapacityInvocationFailures`` that wakes it.
- ``ShadowVariantLimits``: an endpoint config has more than one shadow variant, other than one
  production variant beside it, or a shadow on a serverless or asynchronous endpoint.
- ``RollingUpdateExclusions``: a rolling update on a multi-variant or serverless endpoint, or a
  batch outside 5-50 % of a fleet size the variant can have.
- ``InstancePoolsValid``: a variant's instance pools (1-5, distinct priorities 1-5, no
  InstanceType beside them) or provisioning timeout (300-3600 s) are outside SageMaker's limits.
- ``PipelineJobsProtected``: a SageMaker pipeline's training or processing step has no KMS keys
  for its volumes and outputs or no VPC, or its definition cannot be read from the template.
- ``PipelineSpotCheckpointed``: a pipeline's managed spot training step has no
  MaxWaitTimeInSeconds >= MaxRuntimeInSeconds or no checkpoint location.
- ``PipelinePassesJobRolesOnly``: a pipeline's role may pass roles its steps do not run as.
- ``EventInputPlaceholders``: an EventBridge rule's input template holds a ``<...>`` that is
  neither one of its input paths nor a predefined variable.
- ``EventPatternSize``: an EventBridge rule's event pattern can be longer than PutRule's 4,096
  characters.
- ``IamPolicyLimits``: a managed policy over 6,144 characters, a role's inline policies over
  10,240, its trust policy over 2,048, or more than 10 managed policies on one role.
- ``NamesUnique``: two resources of a type in the stage have the same name where AWS keeps
  names unique.
- ``FunctionEnvironmentSize``: a function's environment variables can take more than Lambda's
  4 KB.
- ``AlarmMetricCount``: a metric math alarm reads more than 10 metrics.
- ``ResourcePolicyLimits``: a bucket, key, topic, queue or repository policy is larger, or has
  more statements, principals, conditions or actions, than its service accepts.
- ``EventTargetKeys``: an EventBridge rule sends to a topic, or keeps dead letters in a queue,
  that events.amazonaws.com may not publish to or whose KMS key it may not use.
- ``LogGroupKey``: a log group's KMS key is asymmetric or its policy does not let CloudWatch
  Logs use it.
- ``EventRulesPerBus``: the stage gives an event bus more rules than EventBridge's default
  quota.

A rule module defines ``RULE`` (:class:`~mlops_cdk.compliance.sagemaker.rule.Rule`): a check
of one resource of its types, given the :class:`~mlops_cdk.compliance.sagemaker.index.StackIndex`
of the resource's stack.
"""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.rule import Rule
from mlops_cdk.compliance.sagemaker.rules import (
    alarm_metric_count,
    alarm_metric_published,
    alarm_topic_cloudwatch,
    async_output_encrypted,
    async_wake_from_zero,
    batch_state_machine_alarmed,
    component_fit,
    component_wake_from_zero,
    data_capture_kms,
    deployment_step_size,
    deployment_timeout,
    endpoint_config_kms,
    endpoint_config_metrics,
    endpoint_open_ingress,
    endpoint_private_dns,
    event_input_placeholders,
    event_pattern_size,
    event_rules_per_bus,
    event_target_keys,
    failure_destination_watched,
    function_environment_size,
    iam_policy_limits,
    instance_pools_valid,
    key_grant_for_aws_resource,
    key_use_bounded,
    log_group_key,
    model_artifacts_write_once,
    model_image_source,
    model_network_isolation,
    model_vpc,
    names_unique,
    no_full_access,
    pipeline_jobs_protected,
    pipeline_passes_job_roles_only,
    pipeline_spot_checkpointed,
    prod_deployment_config,
    prod_instance_count,
    resource_policy_limits,
    role_policies_first,
    rollback_alarms_readable,
    rollback_baking_period,
    rolling_update_exclusions,
    shadow_variant_limits,
    transform_job_protected,
    utilization_threshold,
    variant_autoscaling,
    vpc_endpoint_policy_bounded,
)

RULES: tuple[Rule, ...] = (
    model_vpc.RULE,
    model_network_isolation.RULE,
    no_full_access.RULE,
    endpoint_config_kms.RULE,
    data_capture_kms.RULE,
    prod_instance_count.RULE,
    variant_autoscaling.RULE,
    prod_deployment_config.RULE,
    endpoint_private_dns.RULE,
    endpoint_open_ingress.RULE,
    alarm_topic_cloudwatch.RULE,
    utilization_threshold.RULE,
    deployment_step_size.RULE,
    deployment_timeout.RULE,
    rollback_baking_period.RULE,
    key_grant_for_aws_resource.RULE,
    alarm_metric_published.RULE,
    role_policies_first.RULE,
    rollback_alarms_readable.RULE,
    endpoint_config_metrics.RULE,
    failure_destination_watched.RULE,
    model_artifacts_write_once.RULE,
    key_use_bounded.RULE,
    vpc_endpoint_policy_bounded.RULE,
    async_output_encrypted.RULE,
    async_wake_from_zero.RULE,
    model_image_source.RULE,
    transform_job_protected.RULE,
    batch_state_machine_alarmed.RULE,
    component_fit.RULE,
    component_wake_from_zero.RULE,
    shadow_variant_limits.RULE,
    rolling_update_exclusions.RULE,
    instance_pools_valid.RULE,
    pipeline_jobs_protected.RULE,
    pipeline_spot_checkpointed.RULE,
    pipeline_passes_job_roles_only.RULE,
    event_input_placeholders.RULE,
    iam_policy_limits.RULE,
    event_pattern_size.RULE,
    names_unique.RULE,
    function_environment_size.RULE,
    alarm_metric_count.RULE,
    resource_policy_limits.RULE,
    event_target_keys.RULE,
    log_group_key.RULE,
    event_rules_per_bus.RULE,
)
