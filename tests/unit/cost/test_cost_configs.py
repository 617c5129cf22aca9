"""The price file covers every configuration in the repository, and the estimate of the fixture
environments (synthesized once per session) holds the README's figures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlops_tools.cost.cli import estimate_assembly
from mlops_tools.cost.prices import PriceBook, PriceKey
from tests.helpers import COMMITTED_CONFIG_DIR, CONFIG_DIR, ROOT, Synthesized, yaml_data

CONFIG_FILES = sorted(
    [
        *COMMITTED_CONFIG_DIR.glob("*.yaml"),
        *CONFIG_DIR.glob("*.yaml"),
        *(ROOT / "tests" / "fixtures" / "scale").glob("*.yaml"),
    ]
)


def instance_types(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "instance_type" and isinstance(item, str):
                yield item
            else:
                yield from instance_types(item)
    elif isinstance(value, list):
        for item in value:
            yield from instance_types(item)


@pytest.mark.parametrize("path", CONFIG_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_hosting_instance_type_of_every_config_has_a_price(path: Path) -> None:
    data = yaml_data(path.read_text())
    if "services" not in data:
        pytest.skip("not an environment file")
    prices = PriceBook.load()
    missing = sorted(
        t
        for t in set(instance_types(data["services"]))
        if PriceKey("sagemaker", f"{t} hosting", data["region"]) not in prices.prices
    )
    assert not missing


@pytest.mark.xdist_group("environments")  # shares the session synth of every environment
def test_fixture_environments_are_estimated_and_dev_idles_at_a_quarter_of_prod(
    synthesized: Synthesized,
) -> None:
    costs = {
        c.environment: c for c in estimate_assembly(synthesized.outdir, prices=PriceBook.load())
    }
    assert set(costs) == {"dev", "stage", "prod"}
    for cost in costs.values():
        assert cost.not_estimated == ()
        assert {p.label for p in cost.parts} >= {"Foundation", "service churn"}
        assert 0 < cost.idle <= cost.expected <= cost.peak
    assert costs["dev"].idle <= costs["prod"].idle / 4
