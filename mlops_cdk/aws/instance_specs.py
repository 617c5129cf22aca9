"""Memory of SageMaker hosting instance types, for the inference-component fit check.

An ``ml.<type>`` instance is the EC2 instance ``<type>`` (vCPUs and GPUs: :mod:`mlops_cdk.aws.
instance_types`). botocore has no table of instance sizes (neither the SageMaker nor the EC2
service model), so the memory is committed here from the EC2 instance type specifications:

- "Amazon EC2 instance type specifications", general purpose
  (https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html: m5, m5d, m6i, m7i, t2),
  compute optimized (https://docs.aws.amazon.com/ec2/latest/instancetypes/co.html: c5, c5d, c6i,
  c7i), memory optimized (https://docs.aws.amazon.com/ec2/latest/instancetypes/mo.html: r5, r5d,
  r6i, r7i) and accelerated computing (https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html:
  g4dn, g5, g6, p3).
- Families whose every size has the same memory per vCPU are listed by that ratio (GiB per vCPU:
  general purpose 4, compute optimized 2, memory optimized 8); accelerated families size by size.

What the fit check compares is the instance's nominal memory: SageMaker keeps some of it for its
own agents, so a fit that is tight here may still not place every copy. A type that is not covered
is *unknown*: callers refuse it with a message naming this file, never guess.
``tests/unit/aws/test_instance_specs.py`` keeps every hosting instance type of the committed
configurations covered.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlops_cdk.aws.instance_types import UnknownInstanceType, gpus, vcpus

# GiB of memory per vCPU, for families where it is the same at every size.
_GIB_PER_VCPU: dict[str, int] = {
    **dict.fromkeys(("m5", "m5d", "m6i", "m7i"), 4),
    **dict.fromkeys(("c5", "c5d", "c6i", "c7i"), 2),
    **dict.fromkeys(("r5", "r5d", "r6i", "r7i"), 8),
}
# GiB of memory, size by size.
_GIB: dict[str, int] = {
    "ml.t2.medium": 4,
    "ml.t2.large": 8,
    "ml.t2.xlarge": 16,
    "ml.t2.2xlarge": 32,
    **{
        f"ml.{family}.{size}": gib
        for family in ("g4dn", "g5", "g6")
        for size, gib in (
            ("xlarge", 16),
            ("2xlarge", 32),
            ("4xlarge", 64),
            ("8xlarge", 128),
            ("12xlarge", 192),
            ("16xlarge", 256),
            ("24xlarge", 384),
            ("48xlarge", 768),
        )
    },
    "ml.p3.2xlarge": 61,
    "ml.p3.8xlarge": 244,
    "ml.p3.16xlarge": 488,
}


@dataclass(frozen=True)
class InstanceSpec:
    """What one instance offers inference components: vCPUs, memory (MiB), accelerators."""

    instance_type: str
    vcpus: int
    memory_mib: int
    accelerators: int


def memory_gib(instance_type: str) -> int:
    """Memory of the instance type in GiB; raises :class:`UnknownInstanceType`."""
    if instance_type in _GIB:
        return _GIB[instance_type]
    family = instance_type.split(".")[1] if instance_type.count(".") == 2 else ""
    ratio = _GIB_PER_VCPU.get(family)
    if ratio is None:
        raise UnknownInstanceType(
            f"the memory of {instance_type} is not known to this package "
            "(mlops_cdk/aws/instance_specs.py): add it from the EC2 instance type specifications"
        )
    return ratio * vcpus(instance_type)


def instance_spec(instance_type: str) -> InstanceSpec:
    """vCPUs, memory and accelerators of a hosting instance type; raises
    :class:`UnknownInstanceType` when one of them is not known."""
    return InstanceSpec(
        instance_type=instance_type,
        vcpus=vcpus(instance_type),
        memory_mib=memory_gib(instance_type) * 1024,
        accelerators=gpus(instance_type),
    )


def covered(instance_type: str) -> bool:
    """Whether :func:`instance_spec` knows the instance type."""
    try:
        instance_spec(instance_type)
    except UnknownInstanceType:
        return False
    return True
