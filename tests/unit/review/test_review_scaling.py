"""The review's scale-out detection section: each autoscaled variant's detection time, as the
``ScaleOutDetection`` stack outputs state it (issue 24: 180 s with one-minute metrics, 30 s
with the 10-second metric), before -> after."""

from __future__ import annotations

from typing import Any

from mlops_tools.review.scaling import detections, scaling_section

STACK = "prod-fraud"


def template(**variants: str) -> dict[str, Any]:
    return {
        "Outputs": {
            f"Scaling{name}ScaleOutDetectionABCDEF12": {"Value": f"{name}: {text}"}
            for name, text in variants.items()
        }
        | {"EndpointConfigName": {"Value": "x"}}
    }


SLOW = "180 s (3 x 60 s datapoints of invocations_per_instance)"
FAST = "30 s (3 x 10 s datapoints of concurrent_requests_high_resolution)"


def test_detections_read_only_scale_out_outputs() -> None:
    found = detections({STACK: template(primary=SLOW)}, [STACK])
    assert found == {(STACK, "primary"): SLOW}
    assert detections({STACK: template(primary=SLOW)}, ["other"]) == {}


def test_a_switch_to_the_high_resolution_metric_shows_before_and_after() -> None:
    lines = scaling_section(
        {STACK: template(primary=SLOW)}, {STACK: template(primary=FAST)}, [STACK]
    )
    assert lines[0] == "### Scale-out detection"
    assert "| `primary` | **" + SLOW + " → " + FAST + "** |" in lines


def test_unchanged_is_one_line_and_no_scaling_is_nothing() -> None:
    same = {STACK: template(primary=FAST)}
    assert scaling_section(same, same, [STACK])[2] == f"Unchanged: `primary` {FAST}."
    assert scaling_section({STACK: {}}, {STACK: {}}, [STACK]) == []
