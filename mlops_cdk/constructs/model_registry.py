"""A service's model package group: the versions its retraining pipeline registers, pending
manual approval, and that promotion pins in the configuration.

``AWS::SageMaker::ModelPackageGroup`` (CloudFormation template reference,
https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-modelpackagegroup.html):
``ModelPackageGroupName`` matches ``^[a-zA-Z0-9](-*[a-zA-Z0-9])*$``, at most 63 characters
(changing it replaces the group); ``ModelPackageGroupPolicy`` is its resource policy
(PutModelPackageGroupPolicy, at most 20480 characters).

Readers in other accounts: the model registry's cross-account guide ("Cross-account
discoverability", https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-ram-discover.html)
attaches a group policy allowing ``sagemaker:DescribeModelPackage``,
``sagemaker:ListModelPackages`` and ``sagemaker:DescribeModelPackageGroup`` on the group's ARN
and ``model-package/<group>/*``; deploying a version from another account ("Deploy a Model
Version from a Different Account") also needs the reader to pull the image and read the model
artifact, and use the KMS key that encrypts it: those grants are not made here
(docs/concepts/retraining-pipeline.md, "Model package group").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_sagemaker as sagemaker
from constructs import Construct

from mlops_cdk.props.fields import checked_arguments

# What a reader account may do with the group's packages (the cross-account guide's actions).
READER_ACTIONS = (
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:ListModelPackages",
)
GROUP_NAME_PATTERN = r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$"


class ModelPackageGroup(Construct):
    """The group ``group_name`` (``mlops_cdk.aws.names.model_package_group_name``); with
    ``reader_accounts``, a resource policy that lets those accounts read its packages."""

    @checked_arguments
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        group_name: str,
        reader_accounts: Sequence[str] = (),
        description: str | None = None,
        removal_policy: cdk.RemovalPolicy = cdk.RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, construct_id)
        if not cdk.Token.is_unresolved(group_name) and not re.match(GROUP_NAME_PATTERN, group_name):
            raise ValueError(
                f"ModelPackageGroup: {group_name!r} is not a model package group name "
                "(letters, digits and '-', at most 63 characters)"
            )
        stack = cdk.Stack.of(self)
        self.group_name = group_name
        self.group_arn = stack.format_arn(
            service="sagemaker", resource="model-package-group", resource_name=group_name.lower()
        )
        # Package ARNs use the lower-cased group name and the version: <group>/<version>.
        self.packages_arn = stack.format_arn(
            service="sagemaker", resource="model-package", resource_name=f"{group_name.lower()}/*"
        )
        self.group = sagemaker.CfnModelPackageGroup(
            self,
            "Group",
            model_package_group_name=group_name,
            model_package_group_description=description
            or "Versions registered by the service's retraining pipeline (pending approval)",
            model_package_group_policy=self.policy_document(reader_accounts)
            if reader_accounts
            else None,
        )
        # Registered versions outlive a stack update; CloudFormation cannot delete a group that
        # still has versions anyway.
        self.group.apply_removal_policy(removal_policy)

    def policy_document(self, reader_accounts: Sequence[str]) -> dict[str, object]:
        """The group's resource policy: each reader account may describe and list its
        packages (the account's own IAM policies then decide which of its principals may)."""
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReaderAccountsDescribeAndList",
                    "Effect": "Allow",
                    "Principal": {
                        "AWS": [
                            cdk.Stack.of(self).format_arn(
                                service="iam", region="", account=account, resource="root"
                            )
                            for account in sorted(reader_accounts)
                        ]
                    },
                    "Action": list(READER_ACTIONS),
                    "Resource": [self.group_arn, self.packages_arn],
                }
            ],
        }
