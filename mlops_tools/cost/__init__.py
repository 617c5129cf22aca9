"""Offline cost estimates of synthesized environments (``make cost``, the review report).

``prices`` reads the price file (one row per price, with region, unit, date and source),
``schedule`` turns scheduled scaling actions into shares of the week, ``estimate`` prices an
environment's templates per part (the Foundation, each service) and resource, ``render`` prints
tables and ``cli`` reads a cloud assembly. Nothing here imports aws_cdk or calls AWS.
"""
