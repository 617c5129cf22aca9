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
- ``RollbackBakingPeriod``: an endpoint has rollback alarms but no baking period.
- ``KeyGrantForAwsResource``: a key policy allows kms:CreateGrant to principals other than AWS
  services without ``kms:GrantIsForAWSResource``.
- ``AlarmMetricPublished``: an alarm watches a metric that nothing publishes.

A rule module defines ``RULE`` (:class:`~mlops_cdk.compliance.sagemaker.rule.Rule`): a check
of one resource of its types, given the :class:`~mlops_cdk.compliance.sagemaker.index.StackIndex`
of the resource's stack.
"""

from __future__ import annotations

from mlops_cdk.compliance.sagemaker.rule import Rule
from mlops_cdk.compliance.sagemaker.rules import (
    alarm_metric_published,
    alarm_topic_cloudwatch,
    data_capture_kms,
    deployment_step_size,
    endpoint_config_kms,
    endpoint_open_ingress,
    endpoint_private_dns,
    key_grant_for_aws_resource,
    model_network_isolation,
    model_vpc,
    no_full_access,
    prod_deployment_config,
    prod_instance_count,
    rollback_baking_period,
    utilization_threshold,
    variant_autoscaling,
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
    rollback_baking_period.RULE,
    key_grant_for_aws_resource.RULE,
    alarm_metric_published.RULE,
)
