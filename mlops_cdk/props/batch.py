"""Props of a batch transform job (``services.<name>.batch_jobs[]``), declared once: the
construct (:mod:`mlops_cdk.constructs.batch_transform`) takes them and the configuration
validates YAML into them.

Limits are CreateTransformJob's (SageMaker API reference, "CreateTransformJob",
https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateTransformJob.html, and
botocore's service model): ``MaxPayloadInMB`` 0-100 and, with ``MaxConcurrentTransforms``,
their product at most 100 MB; ``MaxConcurrentTransforms`` >= 0 (0: SageMaker picks);
``BatchStrategy`` MultiRecord | SingleRecord; ``SplitType`` None | Line | RecordIO | TFRecord;
``AssembleWith`` None | Line; ``DataProcessing`` filters are JSONPath expressions of at most 63
characters and ``JoinSource`` Input | None; ``ContentType``/``Accept`` at most 256 characters;
``Environment`` at most 16 entries, keys ``[a-zA-Z_][a-zA-Z0-9_]{0,1023}``, values at most
10240 characters; ``InstanceCount`` >= 1; ``InstanceType`` one of ``TransformInstanceType``.
A schedule is an EventBridge Scheduler ``cron(...)`` (six fields) or ``rate(...)`` expression
in an IANA ``time_zone``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal

from mlops_cdk.aws.instance_types import TRANSFORM_INSTANCE_TYPES
from mlops_cdk.aws.schedules import scheduler_expression_problem, time_zone_problem
from mlops_cdk.props.errors import PropProblems
from mlops_cdk.props.fields import NUMBER, PROPS_CONFIG, checked_types, declared_problems

# Job names become S3 prefixes, IAM resource patterns and transform-job names: lowercase
# letters, digits and single '-', starting with a letter, at most 20 characters.
JOB_NAME_PATTERN = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,19}$")
MAX_PAYLOAD_MB = 100
MAX_JSONPATH = 63
MAX_CONTENT_TYPE = 256
MAX_ENVIRONMENT = 16
_ENV_KEY = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$")
MAX_ENV_VALUE = 10240
# A bound of this package (Step Functions standard workflows allow a year): a job that runs
# longer than a week is a mistake in the timeout, not a plan.
MAX_TIMEOUT_MINUTES = 7 * 24 * 60
# Where a service's batch data lives under the environment bucket.
BATCH_ROOT = "batch/"


# CreateTransformJob TransformJobName: at most 63 characters. Each run's job is named
# ``<prefix>-<hex>``: at least 12 hex characters of a hash of the execution keep it unique.
MAX_TRANSFORM_JOB_NAME = 63
MIN_JOB_NAME_SUFFIX = 12
MAX_JOB_NAME_PREFIX = MAX_TRANSFORM_JOB_NAME - 1 - MIN_JOB_NAME_SUFFIX


def job_name_suffix_length(prefix: str) -> int:
    """Hex characters of the hash after ``<prefix>-`` (at most MD5's 32)."""
    return min(32, MAX_TRANSFORM_JOB_NAME - len(prefix) - 1)


def job_name_hash_input(execution_arn: str, redrive_count: int) -> str:
    """What the job name of an attempt of an execution hashes: the execution ARN, and from its
    first redrive on ``<ARN>:<redrive count>``. A redrive keeps the ARN, so the count tells its
    job from the failed attempt's. An execution name must not contain ':' (AWS Step Functions
    API Reference, StartExecution ``name``,
    https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html), so
    no other execution's ARN reads ``<ARN>:<n>``."""
    return f"{execution_arn}:{redrive_count}" if redrive_count > 0 else execution_arn


def job_name_prefix(env: str, service: str, job: str) -> str:
    """What every transform job of a batch job is named after (and the only jobs its state
    machine may create, describe and stop)."""
    return f"{env}-{service}-{job}"


def service_batch_prefix(service: str) -> str:
    """Every batch job of ``service`` reads from under this prefix (its jobs' inputs and
    outputs, so one job can score another's output)."""
    return f"{BATCH_ROOT}{service}/"


def job_prefix(service: str, job: str) -> str:
    return f"{service_batch_prefix(service)}{job}/"


def input_prefix(service: str, job: str) -> str:
    """The default input of every run of the job."""
    return f"{job_prefix(service, job)}input/"


def output_prefix(service: str, job: str) -> str:
    """Each run writes under ``<output prefix><execution name>/``."""
    return f"{job_prefix(service, job)}output/"


@dataclass(frozen=True)
@checked_types
class DataProcessingSpec:
    """CreateTransformJob ``DataProcessing``: ``input_filter`` selects what is sent to the
    model, ``join_source: Input`` joins each input record with its result, ``output_filter``
    selects what is written (JSONPath, at most 63 characters each)."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    input_filter: str | None = None
    output_filter: str | None = None
    join_source: Literal["None", "Input"] = "None"

    def __post_init__(self) -> None:
        problems: list[tuple[str, str]] = []
        for name in ("input_filter", "output_filter"):
            value = getattr(self, name)
            if value is None:
                continue
            if not value.startswith("$") or len(value) > MAX_JSONPATH:
                problems.append(
                    (name, f"a JSONPath expression starting with '$', at most {MAX_JSONPATH} "
                           f"characters (CreateTransformJob DataProcessing), got {value!r}")
                )  # fmt: skip
        if self.join_source not in ("None", "Input"):
            problems.append(("join_source", "must be None or Input"))
        if problems:
            raise PropProblems(problems, subject="data processing")

    @property
    def is_default(self) -> bool:
        return self == DataProcessingSpec()


@dataclass(frozen=True)
@checked_types
class BatchJobSpec:
    """One batch transform job of a service: ``model`` (a model of the service) scores
    everything under the job's input prefix on ``instance_count`` x ``instance_type``, at most
    ``timeout_minutes`` per run; ``schedule`` (optional) starts it with EventBridge Scheduler,
    ``expected_minutes`` (default: the timeout) is what ``make cost`` counts per run."""

    __pydantic_config__: ClassVar[Any] = PROPS_CONFIG

    name: str
    model: str
    instance_type: str
    instance_count: Annotated[int, NUMBER] = 1
    batch_strategy: Literal["MultiRecord", "SingleRecord"] = "MultiRecord"
    split_type: Literal["None", "Line", "RecordIO", "TFRecord"] = "Line"
    content_type: str = "text/csv"
    accept: str = "text/csv"
    assemble_with: Literal["None", "Line"] = "Line"
    max_payload_mb: Annotated[int, NUMBER] = 6
    max_concurrent_transforms: Annotated[int, NUMBER] = 1
    data_processing: DataProcessingSpec = field(default_factory=DataProcessingSpec)
    environment: dict[str, str] = field(default_factory=dict)
    timeout_minutes: Annotated[int, NUMBER] = 60
    expected_minutes: Annotated[int, NUMBER] | None = None
    schedule: str | None = None
    time_zone: str = "UTC"

    def __post_init__(self) -> None:
        declared = declared_problems(self)  # NUMBER: no booleans, nothing infinite
        if declared:
            raise PropProblems(declared, subject=f"batch job {self.name!r}")
        problems = self._name_problems() + self._resource_problems() + self._payload_problems()
        problems += self._time_problems() + self._environment_problems()
        if problems:
            raise PropProblems(problems, subject=f"batch job {self.name!r}")

    def _name_problems(self) -> list[tuple[str, str]]:
        if JOB_NAME_PATTERN.match(self.name):
            return []
        return [("name", "1-20 lowercase letters, digits and single '-', starting with a letter")]

    def _resource_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if self.instance_type not in TRANSFORM_INSTANCE_TYPES:
            import difflib  # noqa: PLC0415 - only on the error path

            close = difflib.get_close_matches(self.instance_type, TRANSFORM_INSTANCE_TYPES, n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            problems.append(
                ("instance_type", f"{self.instance_type!r} is not a SageMaker batch transform "
                                  f"instance type{hint}")
            )  # fmt: skip
        if self.instance_count < 1:
            problems.append(("instance_count", "must be at least 1"))
        return problems

    def _payload_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not 0 <= self.max_payload_mb <= MAX_PAYLOAD_MB:
            problems.append(("max_payload_mb", f"must be 0-{MAX_PAYLOAD_MB} (MaxPayloadInMB)"))
        elif self.max_concurrent_transforms < 0:
            problems.append(
                ("max_concurrent_transforms", "must be at least 0 (0: SageMaker picks)")
            )
        elif self.max_concurrent_transforms * self.max_payload_mb > MAX_PAYLOAD_MB:
            problems.append(
                ("max_concurrent_transforms", f"max_concurrent_transforms x max_payload_mb is "
                 f"{self.max_concurrent_transforms * self.max_payload_mb} MB; SageMaker allows "
                 f"at most {MAX_PAYLOAD_MB} MB")
            )  # fmt: skip
        for name in ("content_type", "accept"):
            value = getattr(self, name)
            if not 1 <= len(value) <= MAX_CONTENT_TYPE:
                problems.append((name, f"1-{MAX_CONTENT_TYPE} characters"))
        if self.batch_strategy == "MultiRecord" and self.split_type == "None":
            problems.append(
                ("split_type", "MultiRecord batches records split from the input: set split_type "
                               "(Line, RecordIO, TFRecord) or use batch_strategy SingleRecord")
            )  # fmt: skip
        return problems

    def _time_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if not 1 <= self.timeout_minutes <= MAX_TIMEOUT_MINUTES:
            problems.append(("timeout_minutes", f"must be 1-{MAX_TIMEOUT_MINUTES}"))
        expected = self.expected_minutes
        if expected is not None and not 1 <= expected <= self.timeout_minutes:
            problems.append(("expected_minutes", "must be 1 to timeout_minutes"))
        if self.schedule is not None:
            problem = scheduler_expression_problem(self.schedule)
            if problem is not None:
                problems.append(("schedule", f"{self.schedule!r}: {problem}"))
        problem = time_zone_problem(self.time_zone)
        if problem is not None:
            problems.append(("time_zone", problem))
        elif self.schedule is None and self.time_zone != "UTC":
            problems.append(("time_zone", "has no effect without a schedule: remove it"))
        return problems

    def _environment_problems(self) -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        if len(self.environment) > MAX_ENVIRONMENT:
            problems.append(("environment", f"at most {MAX_ENVIRONMENT} variables"))
        for key, value in self.environment.items():
            if not _ENV_KEY.match(key):
                problems.append((f"environment.{key}", "is not a valid variable name"))
            elif len(value) > MAX_ENV_VALUE:
                problems.append((f"environment.{key}", f"longer than {MAX_ENV_VALUE} characters"))
        return problems

    @property
    def minutes_per_run(self) -> int:
        """What one run is expected to take (the timeout when nothing is said)."""
        return self.expected_minutes or self.timeout_minutes
