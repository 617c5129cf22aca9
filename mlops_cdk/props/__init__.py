"""Typed props of the constructs, validated in ``__post_init__`` (pure Python: no aws_cdk,
pydantic or boto3). The constructs take them; the configuration validates YAML into them
(pydantic validates standard dataclasses and reports a ``ValueError`` of ``__post_init__`` at the
field's location), so a setting is declared once."""
