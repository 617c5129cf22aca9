"""The ECR repository model images are pulled from."""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from mlops_cdk.aws.facts import ecr_lifecycle_problem
from mlops_cdk.props.fields import checked_arguments
from mlops_cdk.props.model import IMAGE_TAG_PATTERN

IMAGE_TAG = re.compile(IMAGE_TAG_PATTERN)

# "IAM permissions for pushing an image to an Amazon ECR private repository" (ECR user guide).
PUSH_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)


class ModelImageRepository(Construct):
    """An ECR repository with scan on push, immutable tags, KMS encryption and lifecycle rules.

    Encrypted with ``key``, or without it with ECR's AWS-managed key. Lifecycle: untagged
    images expire after ``untagged_expiry_days``; of tagged images, the newest
    ``max_tagged_images`` are kept, and never those of ``keep_tags`` (the tags the deployed
    configuration names: a model's image is pulled again at every instance launch, so an
    expired one breaks scale-out and instance replacement; a tag no longer named, which a
    revert would need, is kept only among the newest ``max_tagged_images``). Each kept tag has
    a rule of its own ahead of the count, since "an image that matches the tagging requirements of a
    higher priority rule cannot be expired by a rule with a lower priority" (ECR lifecycle
    policy evaluation rules; "Lifecycle policy properties in Amazon ECR"). Retained when its
    stack is deleted unless ``removal_policy`` says otherwise (DESTROY also empties it).
    Exposes ``repository``.
    """

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        key: kms.IKey | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
        max_tagged_images: int = 30,
        untagged_expiry_days: int = 7,
        keep_tags: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        if max_tagged_images < 1 or untagged_expiry_days < 1:
            raise ValueError("ModelImageRepository: image counts and expiry days must be >= 1")
        kept = sorted(set(keep_tags))
        if any(not IMAGE_TAG.fullmatch(tag) for tag in kept):
            raise ValueError(f"ModelImageRepository: keep_tags: not image tags: {kept}")
        problem = ecr_lifecycle_problem(kept, max_tagged_images, untagged_expiry_days)
        if problem is not None:
            raise ValueError(f"ModelImageRepository: keep_tags: {problem}")
        self.repository = ecr.Repository(
            self,
            "Repository",
            image_scan_on_push=True,
            image_tag_mutability=ecr.TagMutability.IMMUTABLE,
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=key,
            removal_policy=removal_policy,
            empty_on_delete=removal_policy == cdk.RemovalPolicy.DESTROY,
            lifecycle_rules=[
                ecr.LifecycleRule(
                    rule_priority=1,
                    description="Expire untagged images",
                    tag_status=ecr.TagStatus.UNTAGGED,
                    max_image_age=cdk.Duration.days(untagged_expiry_days),
                ),
                *(
                    ecr.LifecycleRule(
                        rule_priority=2 + index,
                        description=f"Keep {tag}: in use",
                        tag_status=ecr.TagStatus.TAGGED,
                        tag_pattern_list=[tag],
                        max_image_count=1,  # one image per tag: the tags are immutable
                    )
                    for index, tag in enumerate(kept)
                ),
                ecr.LifecycleRule(
                    rule_priority=2 + len(kept),
                    description=f"Keep the newest {max_tagged_images} tagged images",
                    tag_status=ecr.TagStatus.TAGGED,
                    tag_pattern_list=["*"],
                    max_image_count=max_tagged_images,
                ),
            ],
        )

    def grant_publishers(self, role_arns: Sequence[str]) -> None:
        """Only ``role_arns`` (existing roles, any account) may push: an Allow for them in the
        repository policy (cross-account pushers need it; they also need
        ``ecr:GetAuthorizationToken`` in their own account) and a Deny of the upload actions
        for every other principal. Pushers need no key-policy entry: ECR encrypts with the
        grant it created on the key with the repository ("Encryption at rest - Amazon ECR")."""
        if not role_arns:
            return
        arns = sorted(role_arns)
        accounts = sorted({arn.split(":")[4] for arn in arns})
        self.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid="PublishersPushModelImages",
                principals=[iam.AccountPrincipal(a) for a in accounts],
                actions=list(PUSH_ACTIONS),
                conditions={"ArnEquals": {"aws:PrincipalArn": arns}},
            )
        )
        self.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OnlyPublishersPush",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["ecr:CompleteLayerUpload", "ecr:InitiateLayerUpload", "ecr:PutImage"],
                conditions={"ArnNotEquals": {"aws:PrincipalArn": arns}},
            )
        )
