"""Facts that several parts of the package state, kept once: AWS limits and names the
configuration schema, the constructs, the rule pack and the tools all rely on.

Pure Python: no CDK, pydantic or boto3 import, so ``import mlops_cdk.constructs`` and the tools
can use it without pulling in the configuration layer. The function assets under
``mlops_cdk/functions/`` cannot import the package (they are bundled alone); they repeat the few
names they publish, and tests compare both copies.

Sources (AWS documentation page titles):

- "Amazon SageMaker AI metrics in Amazon CloudWatch" (SageMaker developer guide): the two
  endpoint namespaces and their ``EndpointName`` / ``VariantName`` dimensions.
- SageMaker API reference, "CreateEndpointConfig": ``ProductionVariants``, 1 to 10 items.
- SageMaker API reference, "CreateEndpoint": ``EndpointName``, at most 63 characters.
- SageMaker API reference, "CreateEndpointConfig" ``KmsKeyId``: Nitro-based instances with local
  storage encrypt it with a hardware module, and CreateEndpointConfig fails when a ``KmsKeyId``
  is given for them.
- AWS Lambda developer guide, "Lambda runtimes" (``python3.14``) and "Asynchronous invocation"
  (an event is kept for at most 6 hours).
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Sequence
from typing import Any

# --- SageMaker hosting limits ---------------------------------------------------------------

MAX_VARIANTS = 10  # CreateEndpointConfig: ProductionVariants has 1-10 items
MAX_ENDPOINT_NAME_LENGTH = 63  # CreateEndpoint: EndpointName
# PutRule: EventPattern is a string of at most 4,096 characters (botocore's events service
# model, shape EventPattern; a test compares it with the installed botocore).
EVENT_PATTERN_MAX_CHARS = 4_096
# botocore's SageMaker service model, shape EndpointName (a test compares them): letters and
# digits, single or repeated hyphens between them.
ENDPOINT_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def endpoint_name_problem(name: str) -> str | None:
    """Why SageMaker would refuse ``name`` as an endpoint name (CreateEndpoint), or None."""
    if ENDPOINT_NAME_PATTERN.match(name):
        return None
    return (
        f"{name!r} is not an endpoint name: 1-{MAX_ENDPOINT_NAME_LENGTH} letters, digits and "
        "hyphens, starting and ending with a letter or digit"
    )


# SageMaker API reference, "MetricsConfig": MetricPublishFrequencyInSeconds, default 60.
METRIC_PUBLISH_FREQUENCIES_SECONDS: tuple[int, ...] = (10, 30, 60, 120, 180, 240, 300)
DEFAULT_METRIC_PUBLISH_FREQUENCY_SECONDS = 60

# --- Instance types with local NVMe storage --------------------------------------------------

# Families with local NVMe instance storage (accelerated families, and every ``...d`` family):
# SageMaker rejects a KmsKeyId on endpoint configs that use them.
NVME_FAMILIES: frozenset[str] = frozenset(
    {"g4dn", "g5", "g6", "g6e", "p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "trn1", "trn1n"}
)
_NVME_SUFFIX = re.compile(r"^[a-z]+\d+[a-z]*d[a-z]*$")  # m5d, c5d, r5d, m6id, c6gd, ...


def has_local_nvme(instance_type: str) -> bool:
    """True for ``ml.<family>.<size>`` types whose family has local NVMe storage."""
    parts = instance_type.split(".")
    if len(parts) < 3:
        return False
    family = parts[1]
    return family in NVME_FAMILIES or bool(_NVME_SUFFIX.match(family))


# --- CloudWatch namespaces -------------------------------------------------------------------

# Request metrics of InvokeEndpoint calls ("SageMaker AI endpoint invocation metrics").
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
# Per-instance utilization of endpoint instances ("SageMaker AI endpoint metrics").
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"
# Both: what an execution role may publish for its endpoint.
SAGEMAKER_ENDPOINT_NAMESPACES: tuple[str, str] = (SAGEMAKER_NAMESPACE, INSTANCE_NAMESPACE)
# Each job type writes its logs to one log group ("Log groups and streams that Amazon SageMaker
# AI sends to Amazon CloudWatch Logs",
# https://docs.aws.amazon.com/sagemaker/latest/dg/logging-cloudwatch.html) and its instance
# metrics to the namespace of the same name ("Amazon SageMaker AI metrics in Amazon CloudWatch",
# "SageMaker AI job metrics": "The /aws/sagemaker/ProcessingJobs, /aws/sagemaker/TrainingJobs,
# and /aws/sagemaker/TransformJobs namespaces include the following metrics for processing jobs,
# training jobs, and batch transform jobs",
# https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html#cloudwatch-metrics-jobs).
TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TRAINING_NAMESPACE = "/aws/sagemaker/TrainingJobs"
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
PROCESSING_NAMESPACE = "/aws/sagemaker/ProcessingJobs"
TRANSFORM_LOG_GROUP = "/aws/sagemaker/TransformJobs"
TRANSFORM_NAMESPACE = "/aws/sagemaker/TransformJobs"
# Endpoint metric dimensions.
ENDPOINT_DIMENSION = "EndpointName"
VARIANT_DIMENSION = "VariantName"

# --- Retraining function (mlops_cdk/functions/retrain) ----------------------------------------

RETRAINING_NAMESPACE = "MlopsCdk/Retraining"
RETRAIN_DECISION_METRIC = "RetrainDecision"
# Every invocation ends in exactly one of these decisions (a dimension of the metric).
RETRAIN_DECISIONS: tuple[str, ...] = ("started", "duplicate", "ignored", "rejected", "failed")

# --- Drift check (mlops_cdk/functions/drift) --------------------------------------------------

DRIFT_NAMESPACE = "MlopsCdk/Drift"
DRIFT_SHARE_METRIC = "DriftedFeatureShare"
DRIFT_PSI_METRIC = "PSI"
DRIFT_KS_METRIC = "KS"
DRIFT_RECORDS_METRIC = "RecordsUsed"
DRIFT_MALFORMED_METRIC = "MalformedRecords"
DRIFT_BASELINE_METRIC = "BaselineUnavailable"
DRIFT_CONTENT_TYPES: tuple[str, str] = ("text/csv", "application/json")
# Where baselines live in the environment's bucket (publishers alone write there).
BASELINES_PREFIX = "baselines/"
BASELINE_FILE = "baseline.json"


def baseline_key(service: str) -> str:
    """The S3 key of a service's drift baseline: ``baselines/<service>/baseline.json``."""
    return f"{BASELINES_PREFIX}{service}/{BASELINE_FILE}"


# --- Amazon ECR -----------------------------------------------------------------------------------

# Service quotas, "Lifecycle policy length": 30,720 characters, not adjustable.
ECR_LIFECYCLE_POLICY_MAX_CHARS = 30_720

# The scan severities (botocore's ECR model, ``FindingSeverity``: CRITICAL, HIGH, MEDIUM, LOW,
# INFORMATIONAL, UNDEFINED) that preflight warns of and that the service's topic hears of after
# a scan on push (mlops_tools.image_scan, mlops_cdk.constructs.scan_notification).
REPORTED_SCAN_SEVERITIES = ("CRITICAL", "HIGH")


def ecr_lifecycle_policy_text(
    keep_tags: Sequence[str], max_tagged_images: int, untagged_expiry_days: int
) -> str:
    """The lifecycle policy text a model repository gets, as aws-cdk-lib renders it (untagged
    images expire; each kept tag has a rule of its own; then the newest N tagged are kept):
    what its length is checked on (a test compares it with the synthesized template)."""
    untagged = {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countNumber": untagged_expiry_days,
        "countUnit": "days",
    }
    rules: list[tuple[str, dict[str, Any]]] = [("Expire untagged images", untagged)]
    for tag in sorted(set(keep_tags)):
        rules.append((f"Keep {tag}: in use", _tagged([tag], 1)))
    rules.append(
        (f"Keep the newest {max_tagged_images} tagged images", _tagged(["*"], max_tagged_images))
    )
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": priority,
                    "description": description,
                    "selection": selection,
                    "action": {"type": "expire"},
                }
                for priority, (description, selection) in enumerate(rules, start=1)
            ]
        },
        separators=(",", ":"),
    )


def _tagged(patterns: list[str], count: int) -> dict[str, Any]:
    return {
        "tagStatus": "tagged",
        "tagPatternList": patterns,
        "countType": "imageCountMoreThan",
        "countNumber": count,
    }


def ecr_lifecycle_problem(
    keep_tags: Sequence[str], max_tagged_images: int, untagged_expiry_days: int
) -> str | None:
    """Why ECR would refuse the repository's lifecycle policy (its length), or None."""
    length = len(ecr_lifecycle_policy_text(keep_tags, max_tagged_images, untagged_expiry_days))
    if length <= ECR_LIFECYCLE_POLICY_MAX_CHARS:
        return None
    return (
        f"keeping {len(set(keep_tags))} image tags makes the repository's lifecycle policy "
        f"{length} characters (a rule per tag); ECR allows {ECR_LIFECYCLE_POLICY_MAX_CHARS}: "
        "name fewer distinct image tags"
    )


# --- AWS Lambda --------------------------------------------------------------------------------

# The runtime of every function this package deploys (boto3 comes from it: nothing is bundled).
LAMBDA_PYTHON_RUNTIME = "python3.14"
MAX_ASYNC_EVENT_AGE_SECONDS = 6 * 3600  # Lambda keeps an asynchronous event at most 6 hours
# "Lambda quotas": function environment variables, "4 KB, for all environment variables
# associated with the function, in aggregate"; Lambda measures the variables as one JSON string
# and refuses the function over it ("... exceeded the 4KB limit. String measured: {...}").
LAMBDA_ENVIRONMENT_MAX_BYTES = 4_096
# What this package's drift and quality checks leave for the settings that grow with the
# configuration: the drift check's feature list (its other variables take at most about 500
# bytes with names of 63 characters) and the quality check's metric dimensions (at most about
# 1,500 besides: ten variants, a custom namespace of 255). The budgets keep each function within
# 4 KB; the SageMaker pack's FunctionEnvironmentSize rule checks every function's whole set.
DRIFT_FEATURES_MAX_BYTES = 3_072
QUALITY_DIMENSIONS_MAX_BYTES = 2_048


def json_text_bytes(text: str) -> int:
    """The bytes ``text`` takes inside a JSON string (escapes and UTF-8 counted)."""
    return len(json.dumps(text, ensure_ascii=False).encode()) - 2


# SNS API reference, "Subscribe": "For the email protocol, the endpoint is an email address".
# The subscription stays pending until its owner confirms it, so a typo goes unnoticed.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_addresses_problem(addresses: Sequence[str]) -> str | None:
    """Why ``addresses`` cannot each be an SNS e-mail subscription (one that is no address, or
    one listed twice: CDK names a subscription after its address), or None."""
    for address in addresses:
        if not _EMAIL.match(address):
            return f"{address!r} is not an e-mail address"
    if len(set(addresses)) != len(addresses):
        return "lists an address twice"
    return None


# --- The environment's bucket and network -----------------------------------------------------

# A key prefix of the package's bucket layout: a relative path ending in '/', of the characters
# S3 calls safe in object keys ("Naming Amazon S3 objects", S3 user guide).
S3_PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$")
# An IAM role ARN (paths allowed); assumed-role sessions are matched by their role ARN.
ROLE_ARN_PATTERN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/[\w+=,.@/-]{1,512}$")
# The VPC sizes the package lays out: isolated /22 subnets in 2-6 zones need at least a /24
# (VPC CIDR blocks are /16 to /28: "VPC CIDR blocks", Amazon VPC user guide).
VPC_PREFIX_LENGTHS = (16, 24)


def s3_prefix_problem(prefix: str) -> str | None:
    """Why ``prefix`` is not a key prefix of the bucket layout, or None."""
    if S3_PREFIX_PATTERN.match(prefix):
        return None
    return (
        f"{prefix!r} must be a relative S3 key prefix ending in '/' "
        "(letters, digits, !_.*'()- and '/' between parts)"
    )


def role_arn_problem(arn: str) -> str | None:
    """Why ``arn`` is not an IAM role ARN, or None."""
    if ROLE_ARN_PATTERN.match(arn):
        return None
    return f"{arn!r} is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)"


def vpc_cidr_problem(cidr: str) -> str | None:
    """Why the package cannot lay out a VPC on ``cidr``, or None."""
    try:
        network = ipaddress.IPv4Network(cidr)
    except ValueError:
        return f"{cidr!r} is not an IPv4 CIDR block (e.g. 10.20.0.0/16)"
    low, high = VPC_PREFIX_LENGTHS
    if not network.is_private:
        return f"{network} is not a private (RFC 1918) range"
    if not low <= network.prefixlen <= high:
        return f"prefix /{network.prefixlen} must be between /{low} and /{high}"
    return None


# A VPC's CIDR blocks, its secondary ones included, are /16 to /28 ("VPC CIDR blocks", Amazon VPC
# User Guide, https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html).
VPC_BLOCK_PREFIX_LENGTHS = (16, 28)


def secondary_cidrs_problem(primary: str, secondaries: Sequence[str]) -> str | None:
    """Why ``secondaries`` cannot be an imported VPC's secondary CIDR blocks beside
    ``primary``, or None: each an IPv4 block of /16 to /28, none overlapping another."""
    low, high = VPC_BLOCK_PREFIX_LENGTHS
    seen: list[ipaddress.IPv4Network] = []
    for cidr in (primary, *secondaries):
        try:
            network = ipaddress.IPv4Network(cidr)
        except ValueError:
            return f"{cidr!r} is not an IPv4 CIDR block (e.g. 100.64.0.0/16)"
        if not low <= network.prefixlen <= high:
            return f"{network}: a VPC's CIDR blocks are /{low} to /{high}"
        clash = next((other for other in seen if network.overlaps(other)), None)
        if clash is not None:
            return f"{network} overlaps {clash}"
        seen.append(network)
    return None


def prefixes_overlap_problem(model_artifacts_prefix: str, data_capture_prefix: str) -> str | None:
    """The two prefixes may not overlap: the execution role reads one and writes the other."""
    a, b = model_artifacts_prefix, data_capture_prefix
    if a.startswith(b) or b.startswith(a):
        return (
            "model_artifacts_prefix and data_capture_prefix must not overlap, "
            "so the execution role can read one and write the other"
        )
    return None
