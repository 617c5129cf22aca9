"""Base model for every configuration section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors; values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)
