"""The SageMaker quotas an environment's services need: preflight's ``quota`` lines.

SageMaker counts every instance it runs against an account-level quota per instance type and
use, named ``<type> for endpoint usage``, ``... for transform job usage``, ``... for training job
usage``, ``... for spot training job usage`` and ``... for processing job usage`` (Service
Quotas, service code ``sagemaker``; new accounts hold 0 for many GPU types). A request over it
fails with ResourceLimitExceeded ("The account-level service limit 'ml.g5.xlarge for endpoint
usage' is 0 Instances, with current utilization of 0 Instances and a request delta of 1
Instances"): the serving stack rolls back once CreateEndpoint fails, a batch or retraining run
fails as it starts. Counted from the configuration, per quota, over the services checked:

- **endpoint usage**: each instance-backed variant (production and shadow, asynchronous ones
  too) and each inference-component fleet. Its initial count is required (creation); at most it
  runs its largest count (autoscaling or scheduled maximum) plus a second fleet while an update
  shifts traffic: "If no update policy is specified, SageMaker uses a blue/green deployment ...
  SageMaker creates a new fleet during the deployment while maintaining the old fleet"
  (DeploymentConfig, BlueGreenUpdatePolicy), one batch of instances under a rolling update
  (RollingUpdatePolicy: "reducing the amount of additional instances needed"). Fallback
  instance pools are used only when the first type has no capacity: their quotas are not
  counted;
- **transform job usage**: one run of a batch job is required; every job at once at most;
- **training job usage** (``spot training job usage`` with managed spot) and **processing job
  usage** (the managed pipeline's evaluation): one retraining run of each service.

Serverless variants hold no instances; they count against two account quotas of their own,
named as Service Quotas names them: :data:`SERVERLESS_ENDPOINTS` (one per serverless variant:
a serverless endpoint has one variant) and :data:`SERVERLESS_CONCURRENCY` (quota code
``L-96300102``), from which every serverless endpoint's ``MaxConcurrency`` is allocated. AWS's
documentation said "the total number of serverless endpoint variants you can host in a Region
is 50. The total concurrency you can share between all serverless endpoints per Region in your
account is 200"; accounts are now given 10 concurrency (aws re:Post, "total concurrency for
serverless inference is not 200 only 10", which quotes it) and, by public deployment notes, 5
endpoints. So one variant with ``max_concurrency: 20`` fails CreateEndpoint in a new account
although the API allows 200. Both are required as configured: nothing scales them.

ListServiceQuotas gives the account's applied values; "If the applied quota value is not
available for a quota, the quota is not retrieved" (Service Quotas API reference), so the
default (ListAWSDefaultServiceQuotas) stands in. What other endpoints and jobs of the account
already use counts against the same quotas and is not known here.

A check of some services only (``make preflight SERVICE=``, each service's preflight step in the
pipeline) FAILs on what they need themselves, and WARNs when the environment's other services
take the sum over the quota: every service's endpoints and jobs draw on the same account quota,
so the service deployed last would be refused, and one service's pipeline step should not
stop for another's needs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import (  # type: ignore[import-untyped, unused-ignore]
    BotoCoreError,
    ClientError,
)

from mlops_cdk.aws.guardrails import effective_step
from mlops_cdk.config import EnvConfig
from mlops_cdk.config.service import ServiceConfig
from mlops_cdk.props.variants import VariantSpec
from mlops_tools.smoke import CheckResult, aws_error

SERVICE_CODE = "sagemaker"
ENDPOINT, TRANSFORM, TRAINING, SPOT_TRAINING, PROCESSING = (
    "endpoint usage",
    "transform job usage",
    "training job usage",
    "spot training job usage",
    "processing job usage",
)
SERVERLESS_ENDPOINTS = "Maximum number of serverless endpoints"
SERVERLESS_CONCURRENCY = (
    "Maximum total concurrency that can be allocated across all serverless endpoints"
)


@dataclass
class Need:
    """What one quota must allow, in ``unit`` (instances, serverless endpoints or concurrent
    invocations): ``required`` for sure (endpoints created, one run of the largest job),
    ``peak`` at worst (autoscaling maxima, an update's second fleet, every job at once), who
    needs them, and what to do ``instead`` of a quota increase."""

    quota: str
    required: int = 0
    peak: int = 0
    uses: list[str] = field(default_factory=list)
    unit: str = "instances"
    instead: str = "use another instance type"


def quota_name(instance_type: str, use: str) -> str:
    return f"{instance_type} for {use}"


def _variant_needs(service: str, spec: ServiceConfig) -> Iterator[tuple[str, int, int, str]]:
    """(quota, required, peak, use) of each instance-backed variant and component fleet."""
    deployment = spec.deployment
    variants: list[VariantSpec] = [*spec.variants, *spec.shadow_variants]
    for variant in variants:
        instance = variant.instance
        if instance is None:
            continue
        most = max(instance.fleet_bounds())
        batch = deployment.rolling_batch_size if deployment.strategy == "rolling" else None
        extra = most if batch is None else effective_step(batch.type, batch.value, most)
        use = f"{service} variant {variant.name}: {instance.initial_instance_count}"
        use += f"-{most}" if most != instance.initial_instance_count else ""
        use += f", +{extra} while an update runs"
        yield (
            quota_name(instance.instance_type, ENDPOINT),
            instance.initial_instance_count,
            most + extra,
            use,
        )
    components = spec.inference_components
    if components is not None:
        fleet = components.fleet
        most = fleet.managed_scaling.max_instance_count
        use = (
            f"{service} components' fleet: {fleet.initial_instance_count}-{most}, "
            f"+{most} while an update runs"
        )
        yield quota_name(fleet.instance_type, ENDPOINT), fleet.initial_instance_count, 2 * most, use


def _serverless_needs(service: str, spec: ServiceConfig) -> Iterator[tuple[str, int, str]]:
    """(quota, amount, use) of each serverless variant: one endpoint, its maximum concurrency."""
    for variant in spec.variants:
        serverless = variant.serverless
        if serverless is None:
            continue
        yield SERVERLESS_ENDPOINTS, 1, f"{service} variant {variant.name}"
        concurrency = serverless.max_concurrency
        yield (
            SERVERLESS_CONCURRENCY,
            concurrency,
            f"{service} variant {variant.name}: {concurrency}",
        )


def _job_needs(service: str, spec: ServiceConfig) -> Iterator[tuple[str, int, str]]:
    """(quota, instances of one run, use) of each batch job and retraining job."""
    for job in spec.batch_jobs:
        use = f"{service} batch job {job.name}: {job.instance_count}"
        yield quota_name(job.instance_type, TRANSFORM), job.instance_count, use
    retraining = spec.retraining
    if retraining is None:
        return
    if retraining.training_job is not None:
        template = retraining.training_job.template
        use = SPOT_TRAINING if template.get("EnableManagedSpotTraining") else TRAINING
        for instance_type, count in _training_instances(template).items():
            yield quota_name(instance_type, use), count, f"{service} retraining job: {count}"
    managed = retraining.managed_pipeline
    if managed is not None:
        training = managed.training
        use = SPOT_TRAINING if training.spot is not None else TRAINING
        count = training.instance_count
        yield quota_name(training.instance_type, use), count, f"{service} training step: {count}"
        evaluation = managed.evaluation
        count = evaluation.instance_count
        yield (
            quota_name(evaluation.instance_type, PROCESSING),
            count,
            f"{service} evaluation step: {count}",
        )


def _training_instances(template: dict[str, Any]) -> dict[str, int]:
    """Instances per type of one run of a CreateTrainingJob template: ``ResourceConfig``'s
    ``InstanceType`` x ``InstanceCount`` (1 when left out), or, for a heterogeneous cluster, the
    sum over its ``InstanceGroups`` of each type ("Defines an instance group for heterogeneous
    cluster training", API InstanceGroup; each group's instances run for the whole job)."""
    resources = template.get("ResourceConfig") or {}
    groups = resources.get("InstanceGroups")
    members = groups if isinstance(groups, list) else [resources]
    found: dict[str, int] = {}
    for member in members:
        if not isinstance(member, dict):
            continue
        instance_type = member.get("InstanceType")
        count = member.get("InstanceCount", 1 if groups is None else None)
        if isinstance(instance_type, str) and isinstance(count, int) and count > 0:
            found[instance_type] = found.get(instance_type, 0) + count
    return found


def quota_needs(config: EnvConfig, services: Iterable[str]) -> dict[str, Need]:
    """Quota name -> what ``services`` of ``config`` need of it, in first-use order."""
    needs: dict[str, Need] = {}
    for service in services:
        spec = config.services[service]
        for quota, required, peak, use in _variant_needs(service, spec):
            need = needs.setdefault(quota, Need(quota))
            need.required += required  # every endpoint runs at once
            need.peak += peak
            need.uses.append(use)
        for quota, count, use in _job_needs(service, spec):
            need = needs.setdefault(quota, Need(quota))
            need.required = max(need.required, count)  # one run of the largest job
            need.peak += count  # every job at once
            need.uses.append(use)
        for quota, amount, use in _serverless_needs(service, spec):
            unit = "concurrent invocations" if quota == SERVERLESS_CONCURRENCY else "endpoints"
            need = needs.setdefault(quota, Need(quota, unit=unit, instead=_SERVERLESS_INSTEAD))
            need.required += amount
            need.peak += amount
            need.uses.append(use)
    return needs


_SERVERLESS_INSTEAD = "lower max_concurrency, or serve from instances"


def _quotas(client: Any, operation: str) -> dict[str, tuple[float, str]]:
    """Quota name -> (value, code) over every page of ``operation``."""
    found: dict[str, tuple[float, str]] = {}
    for page in client.get_paginator(operation).paginate(ServiceCode=SERVICE_CODE):
        for quota in page.get("Quotas", []):
            if "QuotaName" in quota and "Value" in quota:
                found[quota["QuotaName"]] = (float(quota["Value"]), quota.get("QuotaCode", ""))
    return found


def account_quotas(client: Any, names: Iterable[str]) -> dict[str, tuple[float, str]]:
    """The applied value (else the default) and code of each quota ``names`` lists that
    SageMaker has in the client's region."""
    wanted = set(names)
    found = {k: v for k, v in _quotas(client, "list_service_quotas").items() if k in wanted}
    if wanted - found.keys():
        defaults = _quotas(client, "list_aws_default_service_quotas")
        found |= {k: v for k, v in defaults.items() if k in wanted - found.keys()}
    return found


def _request(region: str, code: str, value: int) -> str:
    return (
        f"aws service-quotas request-service-quota-increase --region {region} "
        f"--service-code {SERVICE_CODE} --quota-code {code} --desired-value {value}"
    )


def quota_result(
    need: Need,
    found: tuple[float, str] | None,
    region: str,
    *,
    environment: Need | None = None,
) -> CheckResult:
    """PASS within the quota; FAIL when the required amount exceeds it (a deploy or every run
    fails); WARN when only the peak does (scale-out stops, an update or overlapping runs fail),
    or when SageMaker has no such quota in the region.

    ``environment`` is what every service of the environment needs of the same quota, when
    fewer are checked (the pipeline's preflight step checks its own service): where the others'
    needs take the sum over the quota, the line WARNs with the environment's figures rather than
    failing the checked service for what the others use."""
    check = f"quota {need.quota}"
    uses = "; ".join(need.uses)
    if found is None:
        return CheckResult(
            check,
            True,
            f"no such quota in {region}: SageMaker may not offer this there ({uses})",
            warning=True,
        )
    value, code = found
    needed = f"needed {need.required}"
    needed += f", up to {need.peak}" if need.peak != need.required else ""
    summary = f"{value:g} {need.unit}; {needed} ({uses})"
    if value < need.required:
        return CheckResult(
            check,
            False,
            f"{summary}: SageMaker would refuse with ResourceLimitExceeded; request an increase "
            f"({_request(region, code, need.peak)}), or {need.instead}",
        )
    shared = _with_other_services(need, environment, value, region, code)
    if shared is not None:
        return CheckResult(check, True, f"{summary}; {shared}", warning=True)
    if value < need.peak:
        return CheckResult(
            check,
            True,
            f"{summary}: {_BEYOND.format(value=value)} ({_request(region, code, need.peak)})",
            warning=True,
        )
    return CheckResult(check, True, f"{summary}; other use in the account counts too")


_BEYOND = "scale-out, an update's second fleet or overlapping runs beyond {value:g} fail"


def _with_other_services(
    need: Need, environment: Need | None, value: float, region: str, code: str
) -> str | None:
    """What the environment's other services add to a quota the checked ones fit in, when the
    sum does not fit: the same quota serves every endpoint and job of the account."""
    if environment is None or value >= environment.peak:
        return None
    others = [use for use in environment.uses if use not in need.uses]
    if not others:
        return None
    needed = f"needed {environment.required}"
    needed += f", up to {environment.peak}" if environment.peak != environment.required else ""
    effect = (
        "deploying every service fails with ResourceLimitExceeded"
        if value < environment.required
        else _BEYOND.format(value=value)
    )
    return (
        f"with the environment's other services {needed} ({'; '.join(others)}): {effect} "
        f"({_request(region, code, environment.peak)})"
    )


def check_sagemaker_quotas(
    client: Any, config: EnvConfig, services: Iterable[str]
) -> list[CheckResult]:
    """One line per quota the services need (none without instances or serverless variants),
    or one FAIL line when Service Quotas cannot be read. With some of the environment's
    services only, each line also weighs what the others need of the same quota."""
    checked = list(services)
    needs = quota_needs(config, checked)
    if not needs:
        return []
    others = [name for name in config.services if name not in checked]
    environment = quota_needs(config, [*checked, *others]) if others else {}
    try:
        found = account_quotas(client, needs)
    except (ClientError, BotoCoreError) as exc:
        return [CheckResult("quotas", False, aws_error("ListServiceQuotas", exc))]
    return [
        quota_result(need, found.get(name), config.region, environment=environment.get(name))
        for name, need in needs.items()
    ]
