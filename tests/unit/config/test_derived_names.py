"""``derive_service_names``: the names a service's file may leave out or write with
placeholders, filled in before validation, without changing the settings it was given."""

from __future__ import annotations

import copy
from typing import Any

from mlops_cdk.config.service import derive_service_names

SPEC: dict[str, Any] = {
    "models": [{"name": "m1", "image": "x"}],
    "retraining": {
        "pipeline": {"parameters": {"a": "b"}},
        "training_job": {"job_prefix": "{endpoint}-train"},
        "managed_pipeline": {"name": "{service}-loop-{env}", "steps": [{"k": "v"}]},
    },
    "quality_check": {"problem": "binary"},
    "quality_alarms": [
        {"name": "auc", "dimensions": {"Service": "{service}", "Stage": "{env}"}},
        {"name": "no-dimensions"},
        "not a mapping",
    ],
}


def test_names_are_filled_in_and_the_given_settings_are_unchanged() -> None:
    given = copy.deepcopy(SPEC)
    derived = derive_service_names(given, env="stage", service="churn")
    assert given == SPEC  # nothing it was given changed, at any depth
    retraining = derived["retraining"]
    assert retraining["pipeline"] == {"parameters": {"a": "b"}, "name": "stage-churn-retraining"}
    assert retraining["training_job"] == {"job_prefix": "stage-churn-train"}
    assert retraining["managed_pipeline"]["name"] == "churn-loop-stage"
    assert derived["quality_check"] == {"problem": "binary", "dimensions": {"Service": "churn"}}
    assert derived["quality_alarms"] == [
        {"name": "auc", "dimensions": {"Service": "churn", "Stage": "stage"}},
        {"name": "no-dimensions"},
        "not a mapping",
    ]
    assert derived["models"] == SPEC["models"]


def test_what_is_not_the_expected_shape_is_left_for_the_schema_to_report() -> None:
    odd: dict[str, Any] = {
        "retraining": {"pipeline": "a string", "training_job": None},
        "quality_check": {"dimensions": "a string"},
        "quality_alarms": "a string",
    }
    assert derive_service_names(odd, env="dev", service="s") == odd
    assert derive_service_names(["a list"], env="dev", service="s") == ["a list"]
