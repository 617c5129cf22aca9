"""Review reports for pull requests: what a change does to each environment's stacks.

``changes`` classifies every resource as CloudFormation would (update or replacement),
``assembly`` reads templates and acknowledgements from a cloud assembly, ``deployment`` says
what a deploy does to a running SageMaker endpoint (retained counts, autoscaling that forces a
two-step release, blue/green redeploys), ``report`` renders one Markdown report per
environment. ``scripts/review.py`` (``make review``) ties them together.
"""
