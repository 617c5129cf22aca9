"""What AWS and CloudFormation are, kept once: the facts every other part of the package relies
on (the ground floor: it imports nothing else of the package).

- :mod:`.facts`: SageMaker limits, CloudWatch namespaces, NVMe families, the Lambda runtime,
  names the functions publish.
- :mod:`.guardrails`: deployment-guardrail arithmetic (canary and linear steps, rounding).
- :mod:`.instance_types`: SageMaker hosting instance types with their vCPU and GPU counts.
- :mod:`.names`: names derived from stack names (endpoints).
- :mod:`.regions`: the regions aws-cdk-lib knows, without starting jsii.
- :mod:`.sagemaker_metrics`: the endpoint metrics and their units and dimensions.
- :mod:`.cfn_values`: reading synthesized template values (Ref, GetAtt, policy statements).
- :mod:`.acknowledgements`: how a compliance finding is acknowledged on a construct (one id, a
  reason).
- :mod:`.resolve`: many values resolved in one call into the CDK runtime.

Those two are the only modules here that import aws_cdk, so this package's ``__init__`` imports
none of its modules (the tools import facts without starting jsii).
"""
