"""Review reports for pull requests: what a change does to each environment's stacks.

``changes`` classifies every resource as CloudFormation would (update or replacement),
``assembly`` reads templates and acknowledgements from a cloud assembly, ``deployment`` says
what a deploy does to a running SageMaker endpoint (retained counts, autoscaling that forces a
two-step release, blue/green redeploys), ``services`` groups stacks by the part of the
environment they belong to (the Foundation or one service, from the stack name),
``async_endpoints`` and ``batch`` show a service's asynchronous endpoints and batch jobs,
``cost`` adds the monthly estimate of each part before and after (:mod:`mlops_tools.cost`),
``report``
renders one Markdown report per environment, grouped per service. ``scripts/review.py``
(``make review``) ties them together.
"""
