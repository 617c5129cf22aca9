"""ModelImageRepository: scan on push, immutable tags, KMS, lifecycle, removal policy."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from mlops_cdk.aws.facts import ECR_LIFECYCLE_POLICY_MAX_CHARS, ecr_lifecycle_policy_text
from mlops_cdk.constructs.registry import ModelImageRepository
from tests.helpers import new_stack


def repository_template(removal_policy: cdk.RemovalPolicy) -> Template:
    stack = new_stack("Test")
    ModelImageRepository(
        stack,
        "Images",
        key=kms.Key(stack, "Key"),
        removal_policy=removal_policy,
        max_tagged_images=12,
        untagged_expiry_days=5,
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def template() -> Template:
    return repository_template(cdk.RemovalPolicy.RETAIN)


def test_scan_on_push_immutable_tags_and_kms(template: Template) -> None:
    template.has_resource(
        "AWS::ECR::Repository",
        {
            "Properties": {
                "ImageScanningConfiguration": {"ScanOnPush": True},
                "ImageTagMutability": "IMMUTABLE",
                "EncryptionConfiguration": {
                    "EncryptionType": "KMS",
                    "KmsKey": {"Fn::GetAtt": [Match.string_like_regexp("^Key"), "Arn"]},
                },
            },
            "DeletionPolicy": "Retain",
        },
    )
    (repo,) = template.find_resources("AWS::ECR::Repository").values()
    assert repo["Properties"]["EmptyOnDelete"] is False


def test_lifecycle_expires_untagged_and_keeps_newest_tagged(template: Template) -> None:
    (repo,) = template.find_resources("AWS::ECR::Repository").values()
    policy = json.loads(repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])
    rules = {rule["rulePriority"]: rule for rule in policy["rules"]}
    assert rules[1]["selection"] == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countNumber": 5,
        "countUnit": "days",
    }
    assert rules[2]["selection"] == {
        "tagStatus": "tagged",
        "tagPatternList": ["*"],
        "countType": "imageCountMoreThan",
        "countNumber": 12,
    }
    assert all(rule["action"] == {"type": "expire"} for rule in rules.values())


def test_tags_in_use_are_never_expired_by_the_count() -> None:
    """One rule per kept tag, ahead of the count rule: ECR never lets a lower-priority rule
    expire an image a higher-priority rule's tag requirements match."""
    stack = new_stack("Kept")
    ModelImageRepository(
        stack, "Images", max_tagged_images=12, keep_tags=["train-1.1.0", "1.0.0", "1.0.0"]
    )
    (repo,) = Template.from_stack(stack).find_resources("AWS::ECR::Repository").values()
    policy = json.loads(repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"])
    rules = sorted(policy["rules"], key=lambda rule: rule["rulePriority"])
    assert [r["rulePriority"] for r in rules] == [1, 2, 3, 4]
    assert [r["selection"].get("tagPatternList") for r in rules] == [
        None,
        ["1.0.0"],
        ["train-1.1.0"],
        ["*"],  # the count comes last
    ]
    for kept in rules[1:3]:
        assert kept["selection"]["countType"] == "imageCountMoreThan"
        assert kept["selection"]["countNumber"] == 1  # one image per (immutable) tag
        assert kept["description"].endswith(": in use")
    assert rules[3]["selection"]["countNumber"] == 12


def test_destroy_empties_the_repository_on_delete() -> None:
    template = repository_template(cdk.RemovalPolicy.DESTROY)
    template.has_resource(
        "AWS::ECR::Repository",
        {"DeletionPolicy": "Delete", "Properties": {"EmptyOnDelete": True}},
    )


def test_a_kept_tag_must_be_an_image_tag() -> None:
    stack = new_stack("BadTag")
    with pytest.raises(ValueError, match="keep_tags: not image tags"):
        ModelImageRepository(stack, "Images", keep_tags=["1.0.0", "v*"])


def test_invalid_lifecycle_props() -> None:
    stack = new_stack("Bad")
    with pytest.raises(ValueError, match=">= 1"):
        ModelImageRepository(
            stack,
            "Images",
            key=kms.Key(stack, "Key"),
            removal_policy=cdk.RemovalPolicy.RETAIN,
            max_tagged_images=0,
            untagged_expiry_days=5,
        )


def test_only_publishers_push() -> None:
    stack = new_stack("Publishers")
    images = ModelImageRepository(
        stack,
        "Images",
        key=kms.Key(stack, "Key"),
        removal_policy=cdk.RemovalPolicy.RETAIN,
        max_tagged_images=12,
        untagged_expiry_days=5,
    )
    images.grant_publishers(["arn:aws:iam::444444444444:role/ci"])
    (repository,) = Template.from_stack(stack).find_resources("AWS::ECR::Repository").values()
    by_sid = {s["Sid"]: s for s in repository["Properties"]["RepositoryPolicyText"]["Statement"]}
    allow = by_sid["PublishersPushModelImages"]
    assert allow["Principal"] == {"AWS": "arn:aws:iam::444444444444:root"}
    assert allow["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::444444444444:role/ci"]}
    }
    assert {"ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart"} <= set(
        allow["Action"]
    )
    deny = by_sid["OnlyPublishersPush"]
    assert (deny["Effect"], deny["Principal"]) == ("Deny", {"AWS": "*"})
    assert "ecr:PutImage" in deny["Action"]
    assert deny["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": ["arn:aws:iam::444444444444:role/ci"]}
    }


def test_the_lifecycle_policy_text_is_what_the_length_check_measures() -> None:
    stack = new_stack("Measured")
    ModelImageRepository(
        stack, "Images", max_tagged_images=30, untagged_expiry_days=7, keep_tags=["b", "a"]
    )
    (repo,) = Template.from_stack(stack).find_resources("AWS::ECR::Repository").values()
    text = repo["Properties"]["LifecyclePolicy"]["LifecyclePolicyText"]
    assert text == ecr_lifecycle_policy_text(["a", "b"], 30, 7)


def test_a_lifecycle_policy_over_ecrs_length_is_refused() -> None:
    """Service quotas, "Lifecycle policy length": 30,720 characters (a rule per kept tag)."""
    tags = [f"{i:03d}-" + "x" * 120 for i in range(80)]
    assert len(ecr_lifecycle_policy_text(tags, 30, 7)) > ECR_LIFECYCLE_POLICY_MAX_CHARS
    stack = new_stack("TooLong")
    with pytest.raises(ValueError, match="keeping 80 image tags makes the repository's lifecycle"):
        ModelImageRepository(stack, "Images", keep_tags=tags)
    ModelImageRepository(stack, "Fits", keep_tags=tags[:40])
