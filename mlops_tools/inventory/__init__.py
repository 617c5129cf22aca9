"""``make inventory``: what each environment and service of a synthesized cloud assembly deploys.

``read`` turns the templates into an inventory per environment (the Foundation; per service its
stacks, resource counts, models, endpoints and variants, batch jobs, alarms and where they
notify, functions, bucket prefixes, and ``make cost``'s monthly estimate), ``render`` prints it
as terminal text or Markdown, ``cli`` is the command. :mod:`mlops_tools.diagram` draws the same
inventory. Nothing here imports aws_cdk or calls AWS.
"""
