"""Review reports for pull requests: what a change does to each environment's stacks.

``changes`` classifies every resource as CloudFormation would (update or replacement),
``assembly`` reads templates and acknowledgements from a cloud assembly, ``report`` renders one
Markdown report per environment. ``scripts/review.py`` (``make review``) ties them together.
"""
