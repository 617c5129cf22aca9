"""SageMaker hosting instance types and their vCPU / GPU counts (offline facts).

- ``HOSTING_INSTANCE_TYPES`` is SageMaker's ``ProductionVariantInstanceType`` enum as shipped in
  botocore's service model (botocore 1.44.5); ``tests/unit/test_instance_types.py``
  fails when the installed botocore lists other types, so an upgrade prompts a refresh
  (``python -m mlops_cdk.aws.instance_types --refresh`` prints the new block).
- vCPUs follow EC2's size names (``medium`` 1, ``large`` 2, ``xlarge`` 4, ``<N>xlarge`` 4N), with
  the documented exceptions below (EC2 User Guide, "Amazon EC2 instance type specifications").
- GPUs: NVIDIA GPUs per instance, from the EC2 accelerated-computing specifications. A GPU family
  whose per-size count is not listed here is *unknown*: callers must refuse it, not guess.

Why it matters: SageMaker's ``CPUUtilization`` is the sum over vCPUs (0-400 % on 4 vCPUs) and
``GPUUtilization`` / ``GPUMemoryUtilization`` the sum over GPUs ("Monitor Amazon SageMaker AI with
Amazon CloudWatch", Endpoint instance metrics), so a percentage of the instance must be scaled.
"""

from __future__ import annotations

import re
import sys

HOSTING_INSTANCE_TYPES: frozenset[str] = frozenset(
    [
        "ml.c4.2xlarge",
        "ml.c4.4xlarge",
        "ml.c4.8xlarge",
        "ml.c4.large",
        "ml.c4.xlarge",
        "ml.c5.18xlarge",
        "ml.c5.2xlarge",
        "ml.c5.4xlarge",
        "ml.c5.9xlarge",
        "ml.c5.large",
        "ml.c5.xlarge",
        "ml.c5d.18xlarge",
        "ml.c5d.2xlarge",
        "ml.c5d.4xlarge",
        "ml.c5d.9xlarge",
        "ml.c5d.large",
        "ml.c5d.xlarge",
        "ml.c6g.12xlarge",
        "ml.c6g.16xlarge",
        "ml.c6g.2xlarge",
        "ml.c6g.4xlarge",
        "ml.c6g.8xlarge",
        "ml.c6g.large",
        "ml.c6g.xlarge",
        "ml.c6gd.12xlarge",
        "ml.c6gd.16xlarge",
        "ml.c6gd.2xlarge",
        "ml.c6gd.4xlarge",
        "ml.c6gd.8xlarge",
        "ml.c6gd.large",
        "ml.c6gd.xlarge",
        "ml.c6gn.12xlarge",
        "ml.c6gn.16xlarge",
        "ml.c6gn.2xlarge",
        "ml.c6gn.4xlarge",
        "ml.c6gn.8xlarge",
        "ml.c6gn.large",
        "ml.c6gn.xlarge",
        "ml.c6i.12xlarge",
        "ml.c6i.16xlarge",
        "ml.c6i.24xlarge",
        "ml.c6i.2xlarge",
        "ml.c6i.32xlarge",
        "ml.c6i.4xlarge",
        "ml.c6i.8xlarge",
        "ml.c6i.large",
        "ml.c6i.xlarge",
        "ml.c6in.12xlarge",
        "ml.c6in.16xlarge",
        "ml.c6in.24xlarge",
        "ml.c6in.2xlarge",
        "ml.c6in.32xlarge",
        "ml.c6in.4xlarge",
        "ml.c6in.8xlarge",
        "ml.c6in.large",
        "ml.c6in.xlarge",
        "ml.c7g.12xlarge",
        "ml.c7g.16xlarge",
        "ml.c7g.2xlarge",
        "ml.c7g.4xlarge",
        "ml.c7g.8xlarge",
        "ml.c7g.large",
        "ml.c7g.xlarge",
        "ml.c7i.12xlarge",
        "ml.c7i.16xlarge",
        "ml.c7i.24xlarge",
        "ml.c7i.2xlarge",
        "ml.c7i.48xlarge",
        "ml.c7i.4xlarge",
        "ml.c7i.8xlarge",
        "ml.c7i.large",
        "ml.c7i.xlarge",
        "ml.c8g.12xlarge",
        "ml.c8g.16xlarge",
        "ml.c8g.24xlarge",
        "ml.c8g.2xlarge",
        "ml.c8g.48xlarge",
        "ml.c8g.4xlarge",
        "ml.c8g.8xlarge",
        "ml.c8g.large",
        "ml.c8g.medium",
        "ml.c8g.xlarge",
        "ml.dl1.24xlarge",
        "ml.g4dn.12xlarge",
        "ml.g4dn.16xlarge",
        "ml.g4dn.2xlarge",
        "ml.g4dn.4xlarge",
        "ml.g4dn.8xlarge",
        "ml.g4dn.xlarge",
        "ml.g5.12xlarge",
        "ml.g5.16xlarge",
        "ml.g5.24xlarge",
        "ml.g5.2xlarge",
        "ml.g5.48xlarge",
        "ml.g5.4xlarge",
        "ml.g5.8xlarge",
        "ml.g5.xlarge",
        "ml.g6.12xlarge",
        "ml.g6.16xlarge",
        "ml.g6.24xlarge",
        "ml.g6.2xlarge",
        "ml.g6.48xlarge",
        "ml.g6.4xlarge",
        "ml.g6.8xlarge",
        "ml.g6.xlarge",
        "ml.g6e.12xlarge",
        "ml.g6e.16xlarge",
        "ml.g6e.24xlarge",
        "ml.g6e.2xlarge",
        "ml.g6e.48xlarge",
        "ml.g6e.4xlarge",
        "ml.g6e.8xlarge",
        "ml.g6e.xlarge",
        "ml.g7.12xlarge",
        "ml.g7.24xlarge",
        "ml.g7.2xlarge",
        "ml.g7.48xlarge",
        "ml.g7.4xlarge",
        "ml.g7.8xlarge",
        "ml.g7e.12xlarge",
        "ml.g7e.24xlarge",
        "ml.g7e.2xlarge",
        "ml.g7e.48xlarge",
        "ml.g7e.4xlarge",
        "ml.g7e.8xlarge",
        "ml.inf1.24xlarge",
        "ml.inf1.2xlarge",
        "ml.inf1.6xlarge",
        "ml.inf1.xlarge",
        "ml.inf2.24xlarge",
        "ml.inf2.48xlarge",
        "ml.inf2.8xlarge",
        "ml.inf2.xlarge",
        "ml.m4.10xlarge",
        "ml.m4.16xlarge",
        "ml.m4.2xlarge",
        "ml.m4.4xlarge",
        "ml.m4.xlarge",
        "ml.m5.12xlarge",
        "ml.m5.24xlarge",
        "ml.m5.2xlarge",
        "ml.m5.4xlarge",
        "ml.m5.large",
        "ml.m5.xlarge",
        "ml.m5d.12xlarge",
        "ml.m5d.24xlarge",
        "ml.m5d.2xlarge",
        "ml.m5d.4xlarge",
        "ml.m5d.large",
        "ml.m5d.xlarge",
        "ml.m6g.12xlarge",
        "ml.m6g.16xlarge",
        "ml.m6g.2xlarge",
        "ml.m6g.4xlarge",
        "ml.m6g.8xlarge",
        "ml.m6g.large",
        "ml.m6g.xlarge",
        "ml.m6gd.12xlarge",
        "ml.m6gd.16xlarge",
        "ml.m6gd.2xlarge",
        "ml.m6gd.4xlarge",
        "ml.m6gd.8xlarge",
        "ml.m6gd.large",
        "ml.m6gd.xlarge",
        "ml.m6i.12xlarge",
        "ml.m6i.16xlarge",
        "ml.m6i.24xlarge",
        "ml.m6i.2xlarge",
        "ml.m6i.32xlarge",
        "ml.m6i.4xlarge",
        "ml.m6i.8xlarge",
        "ml.m6i.large",
        "ml.m6i.xlarge",
        "ml.m7i.12xlarge",
        "ml.m7i.16xlarge",
        "ml.m7i.24xlarge",
        "ml.m7i.2xlarge",
        "ml.m7i.48xlarge",
        "ml.m7i.4xlarge",
        "ml.m7i.8xlarge",
        "ml.m7i.large",
        "ml.m7i.xlarge",
        "ml.m8g.12xlarge",
        "ml.m8g.16xlarge",
        "ml.m8g.24xlarge",
        "ml.m8g.2xlarge",
        "ml.m8g.48xlarge",
        "ml.m8g.4xlarge",
        "ml.m8g.8xlarge",
        "ml.m8g.large",
        "ml.m8g.medium",
        "ml.m8g.xlarge",
        "ml.p2.16xlarge",
        "ml.p2.8xlarge",
        "ml.p2.xlarge",
        "ml.p3.16xlarge",
        "ml.p3.2xlarge",
        "ml.p3.8xlarge",
        "ml.p4d.24xlarge",
        "ml.p4de.24xlarge",
        "ml.p5.48xlarge",
        "ml.p5.4xlarge",
        "ml.p5e.48xlarge",
        "ml.p5en.48xlarge",
        "ml.p6-b200.48xlarge",
        "ml.p6-b300.48xlarge",
        "ml.p6e-gb200.36xlarge",
        "ml.r5.12xlarge",
        "ml.r5.24xlarge",
        "ml.r5.2xlarge",
        "ml.r5.4xlarge",
        "ml.r5.large",
        "ml.r5.xlarge",
        "ml.r5d.12xlarge",
        "ml.r5d.24xlarge",
        "ml.r5d.2xlarge",
        "ml.r5d.4xlarge",
        "ml.r5d.large",
        "ml.r5d.xlarge",
        "ml.r6g.12xlarge",
        "ml.r6g.16xlarge",
        "ml.r6g.2xlarge",
        "ml.r6g.4xlarge",
        "ml.r6g.8xlarge",
        "ml.r6g.large",
        "ml.r6g.xlarge",
        "ml.r6gd.12xlarge",
        "ml.r6gd.16xlarge",
        "ml.r6gd.2xlarge",
        "ml.r6gd.4xlarge",
        "ml.r6gd.8xlarge",
        "ml.r6gd.large",
        "ml.r6gd.xlarge",
        "ml.r6i.12xlarge",
        "ml.r6i.16xlarge",
        "ml.r6i.24xlarge",
        "ml.r6i.2xlarge",
        "ml.r6i.32xlarge",
        "ml.r6i.4xlarge",
        "ml.r6i.8xlarge",
        "ml.r6i.large",
        "ml.r6i.xlarge",
        "ml.r7gd.12xlarge",
        "ml.r7gd.16xlarge",
        "ml.r7gd.2xlarge",
        "ml.r7gd.4xlarge",
        "ml.r7gd.8xlarge",
        "ml.r7gd.large",
        "ml.r7gd.medium",
        "ml.r7gd.xlarge",
        "ml.r7i.12xlarge",
        "ml.r7i.16xlarge",
        "ml.r7i.24xlarge",
        "ml.r7i.2xlarge",
        "ml.r7i.48xlarge",
        "ml.r7i.4xlarge",
        "ml.r7i.8xlarge",
        "ml.r7i.large",
        "ml.r7i.xlarge",
        "ml.r8g.12xlarge",
        "ml.r8g.16xlarge",
        "ml.r8g.24xlarge",
        "ml.r8g.2xlarge",
        "ml.r8g.48xlarge",
        "ml.r8g.4xlarge",
        "ml.r8g.8xlarge",
        "ml.r8g.large",
        "ml.r8g.medium",
        "ml.r8g.xlarge",
        "ml.t2.2xlarge",
        "ml.t2.large",
        "ml.t2.medium",
        "ml.t2.xlarge",
        "ml.trn1.2xlarge",
        "ml.trn1.32xlarge",
        "ml.trn1n.32xlarge",
        "ml.trn2.48xlarge",
    ]
)

# EC2 sizes whose vCPU count does not follow the 4-per-xlarge naming.
_VCPU_EXCEPTIONS: dict[str, int] = {
    "ml.t2.medium": 2,  # burstable t2: medium has 2 vCPUs
    "ml.c4.8xlarge": 36,
}

# NVIDIA GPUs per instance. Families in _GPU_FAMILIES without an entry here are unknown.
_GPUS: dict[str, int] = {
    **dict.fromkeys(("ml.p2.xlarge", "ml.p3.2xlarge", "ml.p5.4xlarge"), 1),
    "ml.p2.8xlarge": 8,
    "ml.p2.16xlarge": 16,
    "ml.p3.8xlarge": 4,
    "ml.p3.16xlarge": 8,
    **{f"ml.g4dn.{s}": 1 for s in ("xlarge", "2xlarge", "4xlarge", "8xlarge", "16xlarge")},
    "ml.g4dn.12xlarge": 4,
    **{
        f"ml.{family}.{size}": count
        for family in ("g5", "g6", "g6e")
        for size, count in (
            ("xlarge", 1),
            ("2xlarge", 1),
            ("4xlarge", 1),
            ("8xlarge", 1),
            ("16xlarge", 1),
            ("12xlarge", 4),
            ("24xlarge", 4),
            ("48xlarge", 8),
        )
    },
    **dict.fromkeys(
        (
            "ml.p4d.24xlarge",
            "ml.p4de.24xlarge",
            "ml.p5.48xlarge",
            "ml.p5e.48xlarge",
            "ml.p5en.48xlarge",
            "ml.p6-b200.48xlarge",
            "ml.p6-b300.48xlarge",
        ),
        8,
    ),
}
# SageMaker's ``TransformInstanceType`` enum (botocore's service model, CreateTransformJob
# ``TransformResources.InstanceType``): the instance types a batch transform job may use.
# ``tests/unit/props/test_batch.py`` fails when the installed botocore lists other types.
TRANSFORM_INSTANCE_TYPES: frozenset[str] = frozenset(
    [
        "ml.c4.2xlarge",
        "ml.c4.4xlarge",
        "ml.c4.8xlarge",
        "ml.c4.xlarge",
        "ml.c5.18xlarge",
        "ml.c5.2xlarge",
        "ml.c5.4xlarge",
        "ml.c5.9xlarge",
        "ml.c5.xlarge",
        "ml.c6i.12xlarge",
        "ml.c6i.16xlarge",
        "ml.c6i.24xlarge",
        "ml.c6i.2xlarge",
        "ml.c6i.32xlarge",
        "ml.c6i.4xlarge",
        "ml.c6i.8xlarge",
        "ml.c6i.large",
        "ml.c6i.xlarge",
        "ml.c7i.12xlarge",
        "ml.c7i.16xlarge",
        "ml.c7i.24xlarge",
        "ml.c7i.2xlarge",
        "ml.c7i.48xlarge",
        "ml.c7i.4xlarge",
        "ml.c7i.8xlarge",
        "ml.c7i.large",
        "ml.c7i.xlarge",
        "ml.g4dn.12xlarge",
        "ml.g4dn.16xlarge",
        "ml.g4dn.2xlarge",
        "ml.g4dn.4xlarge",
        "ml.g4dn.8xlarge",
        "ml.g4dn.xlarge",
        "ml.g5.12xlarge",
        "ml.g5.16xlarge",
        "ml.g5.24xlarge",
        "ml.g5.2xlarge",
        "ml.g5.48xlarge",
        "ml.g5.4xlarge",
        "ml.g5.8xlarge",
        "ml.g5.xlarge",
        "ml.g6.12xlarge",
        "ml.g6.16xlarge",
        "ml.g6.24xlarge",
        "ml.g6.2xlarge",
        "ml.g6.48xlarge",
        "ml.g6.4xlarge",
        "ml.g6.8xlarge",
        "ml.g6.xlarge",
        "ml.g6e.12xlarge",
        "ml.g6e.16xlarge",
        "ml.g6e.24xlarge",
        "ml.g6e.2xlarge",
        "ml.g6e.48xlarge",
        "ml.g6e.4xlarge",
        "ml.g6e.8xlarge",
        "ml.g6e.xlarge",
        "ml.inf2.24xlarge",
        "ml.inf2.48xlarge",
        "ml.inf2.8xlarge",
        "ml.inf2.xlarge",
        "ml.m4.10xlarge",
        "ml.m4.16xlarge",
        "ml.m4.2xlarge",
        "ml.m4.4xlarge",
        "ml.m4.xlarge",
        "ml.m5.12xlarge",
        "ml.m5.24xlarge",
        "ml.m5.2xlarge",
        "ml.m5.4xlarge",
        "ml.m5.large",
        "ml.m5.xlarge",
        "ml.m6i.12xlarge",
        "ml.m6i.16xlarge",
        "ml.m6i.24xlarge",
        "ml.m6i.2xlarge",
        "ml.m6i.32xlarge",
        "ml.m6i.4xlarge",
        "ml.m6i.8xlarge",
        "ml.m6i.large",
        "ml.m6i.xlarge",
        "ml.m7i.12xlarge",
        "ml.m7i.16xlarge",
        "ml.m7i.24xlarge",
        "ml.m7i.2xlarge",
        "ml.m7i.48xlarge",
        "ml.m7i.4xlarge",
        "ml.m7i.8xlarge",
        "ml.m7i.large",
        "ml.m7i.xlarge",
        "ml.p2.16xlarge",
        "ml.p2.8xlarge",
        "ml.p2.xlarge",
        "ml.p3.16xlarge",
        "ml.p3.2xlarge",
        "ml.p3.8xlarge",
        "ml.r6i.12xlarge",
        "ml.r6i.16xlarge",
        "ml.r6i.24xlarge",
        "ml.r6i.2xlarge",
        "ml.r6i.32xlarge",
        "ml.r6i.4xlarge",
        "ml.r6i.8xlarge",
        "ml.r6i.large",
        "ml.r6i.xlarge",
        "ml.r7i.12xlarge",
        "ml.r7i.16xlarge",
        "ml.r7i.24xlarge",
        "ml.r7i.2xlarge",
        "ml.r7i.48xlarge",
        "ml.r7i.4xlarge",
        "ml.r7i.8xlarge",
        "ml.r7i.large",
        "ml.r7i.xlarge",
        "ml.trn1.2xlarge",
        "ml.trn1.32xlarge",
    ]
)

_GPU_FAMILIES = re.compile(r"^ml\.(p\d+[a-z]*(-[a-z0-9]+)?|g\d+[a-z]*)\.")
_SIZE = re.compile(r"^(?:(\d+)?xlarge|large|medium)$")


class UnknownInstanceType(ValueError):  # noqa: N818 - reads as "the instance type is unknown"
    """The instance type is not a SageMaker hosting type, or a count for it is not known."""


def is_hosting_instance_type(instance_type: str) -> bool:
    return instance_type in HOSTING_INSTANCE_TYPES


def vcpus(instance_type: str) -> int:
    """vCPUs of a SageMaker hosting instance type; raises :class:`UnknownInstanceType`."""
    if instance_type not in HOSTING_INSTANCE_TYPES:
        raise UnknownInstanceType(f"{instance_type!r} is not a SageMaker hosting instance type")
    if instance_type in _VCPU_EXCEPTIONS:
        return _VCPU_EXCEPTIONS[instance_type]
    size = instance_type.rsplit(".", 1)[1]
    match = _SIZE.match(size)
    if match is None:  # pragma: no cover - every listed type has a standard size
        raise UnknownInstanceType(f"{instance_type!r}: unknown size {size!r}")
    if size == "medium":
        return 1
    if size == "large":
        return 2
    return 4 * int(match.group(1) or 1)


def is_gpu_instance_type(instance_type: str) -> bool:
    """NVIDIA GPU families (p*, g*): SageMaker publishes GPUUtilization for them."""
    return bool(_GPU_FAMILIES.match(instance_type))


def gpus(instance_type: str) -> int:
    """NVIDIA GPUs of the instance type (0 for CPU, Inferentia and Trainium types); raises
    :class:`UnknownInstanceType` for a GPU type whose count this module does not know."""
    if instance_type not in HOSTING_INSTANCE_TYPES:
        raise UnknownInstanceType(f"{instance_type!r} is not a SageMaker hosting instance type")
    if not is_gpu_instance_type(instance_type):
        return 0
    if instance_type not in _GPUS:
        raise UnknownInstanceType(
            f"the GPU count of {instance_type} is not known to this package "
            "(mlops_cdk/aws/instance_types.py): add it from the EC2 instance specifications"
        )
    return _GPUS[instance_type]


def _refresh() -> str:  # pragma: no cover - a maintenance aid, needs botocore (dev deps)
    import textwrap  # noqa: PLC0415 - a maintenance aid only

    import botocore.session  # type: ignore[import-untyped, unused-ignore]  # noqa: PLC0415

    model = botocore.session.get_session().get_service_model("sagemaker")
    names = sorted(model.shape_for("ProductionVariantInstanceType").enum)
    return textwrap.fill(" ".join(names), 92, initial_indent="    ", subsequent_indent="    ")


if __name__ == "__main__":  # pragma: no cover
    if sys.argv[1:] == ["--refresh"]:
        print(_refresh())
