"""The project's operator tools, apart from the CDK package: ``review`` (pull-request reports),
``cost`` (offline estimates), ``smoke`` (post-deployment check) and ``preflight`` (pre-deploy
check).

They read synthesized templates or call AWS through boto3, and never import aws_cdk, jsii or
constructs: from :mod:`mlops_cdk` they use only modules that do not (``names``, ``cfn_values``,
``guardrails``, ``config``), which ``tests/unit/test_layout.py`` asserts. The CDK package, in
turn, depends on neither cfn-lint nor boto3.
"""
