"""FunctionEnvironmentSize: a Lambda function's environment variables can take more than the
4 KB Lambda allows them together.

"Function environment variables: 4 KB, for all environment variables associated with the
function, in aggregate" (Lambda quotas); Lambda measures the variables as one JSON string and
refuses the function over it ("Lambda was unable to configure your environment variables
because the environment variables you have provided exceeded the 4KB limit"), so the create or
update fails and the stack rolls back. Settings that grow with a configuration end up there (a
drift check's feature list, a quality check's dimensions, names of every model or variant). The
size is the variables as compact UTF-8 JSON with each reference at the longest it can resolve
to (:func:`mlops_cdk.aws.resolved_length.json_bytes`): an upper bound.
"""

from __future__ import annotations

from mlops_cdk.aws.facts import LAMBDA_ENVIRONMENT_MAX_BYTES
from mlops_cdk.aws.resolved_length import json_bytes
from mlops_cdk.compliance.sagemaker.index import FUNCTION_TYPE, Resource, StackIndex
from mlops_cdk.compliance.sagemaker.rule import (
    COMPLIANT,
    NON_COMPLIANT,
    NOT_APPLICABLE,
    Compliance,
    Rule,
)


def function_environment_size(function: Resource, stack: StackIndex) -> Compliance:
    environment = function.properties.get("Environment")
    variables = environment.get("Variables") if isinstance(environment, dict) else None
    if not variables:
        return NOT_APPLICABLE
    size = json_bytes(variables, stack)
    return COMPLIANT if size <= LAMBDA_ENVIRONMENT_MAX_BYTES else NON_COMPLIANT


RULE = Rule(
    "FunctionEnvironmentSize",
    "The function's environment variables can take more than the 4 KB (4,096 bytes as JSON) "
    "Lambda allows them together (each reference at the longest it can resolve to): the "
    "function's create or update fails.",
    "Pass less through the environment: fewer or shorter values, or read what grows (a list of "
    "names, a document) from S3 or Parameter Store at run time.",
    function_environment_size,
    frozenset({FUNCTION_TYPE}),
)
