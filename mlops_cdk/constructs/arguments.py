"""Argument types the constructs check for themselves (:func:`mlops_cdk.props.fields.
checked_arguments` runs each ``Check``): a literal name is checked, a token is left to
CloudFormation."""

from __future__ import annotations

from typing import Annotated

import aws_cdk as cdk

from mlops_cdk.aws.facts import endpoint_name_problem
from mlops_cdk.props.fields import Check


def _literal_endpoint_name_problem(name: str) -> str | None:
    return None if cdk.Token.is_unresolved(name) else endpoint_name_problem(name)


# The name of an endpoint (CreateEndpoint's EndpointName): alarms, scaling, dashboards and
# permissions on a name no endpoint can have watch or allow nothing.
EndpointName = Annotated[str, Check(_literal_endpoint_name_problem)]
