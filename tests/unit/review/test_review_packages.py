"""Model packages in the review report: "package version 3 → 4" from the models' metadata,
with "approved at preflight"; nothing when no model is made from a package or nothing
changes."""

from __future__ import annotations

from typing import Any

from mlops_tools.review.packages import package_models, package_section

ARN = "arn:aws:sagemaker:eu-west-1:222222222222:model-package/stage-churn/{}"


def model(name: str, version: int, **extra: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::SageMaker::Model",
        "Properties": {"Containers": [{"ModelPackageName": ARN.format(version)}]},
        "Metadata": {
            "MlopsModelPackage": {
                "Group": "stage-churn",
                "Version": version,
                "Account": "222222222222",
                "Model": name,
                **extra,
            }
        },
    }


def templates(**models: dict[str, Any]) -> dict[str, Any]:
    image = {"Type": "AWS::SageMaker::Model", "Properties": {"PrimaryContainer": {"Image": "x"}}}
    return {"stage-churn": {"Resources": {"Modelchurnv1": image, **models}}}


def test_a_version_change_of_one_model_reads_3_to_4() -> None:
    lines = package_section(
        templates(M=model("churn-pkg", 3)),
        templates(M=model("churn-pkg", 4)),
        ["stage-churn"],
    )
    text = "\n".join(lines)
    assert lines[0] == "### Model packages"
    assert "- group `stage-churn`: package version 3 → 4 (newest served)." in text
    assert "model `churn-pkg`: package version 3 → 4 of `stage-churn`" in text
    assert "approved at preflight" in text


def test_a_promotion_adds_a_model_next_to_the_served_version() -> None:
    before = templates(A=model("churn-pkg-v3", 3))
    after = templates(A=model("churn-pkg-v3", 3), B=model("churn-pkg-v4", 4, Metrics={"auc": 0.81}))
    text = "\n".join(package_section(before, after, ["stage-churn"]))
    assert "package version 3 → 4" in text
    assert "- model `churn-pkg-v4` added: package version 4 of `stage-churn`" in text
    assert "metrics: auc 0.81" in text
    assert "churn-pkg-v3" not in text  # unchanged


def test_the_first_package_model_reads_from_nothing() -> None:
    text = "\n".join(package_section(templates(), templates(B=model("p", 4)), ["stage-churn"]))
    assert "package version — → 4" in text


def test_nothing_without_package_models_or_without_changes() -> None:
    assert package_section(templates(), templates(), ["stage-churn"]) == []
    same = templates(A=model("p", 4))
    assert package_section(same, same, ["stage-churn"]) == []
    assert package_section(templates(), same, ["stage-fraud"]) == []


def test_image_models_are_not_packages() -> None:
    assert package_models(templates(), ["stage-churn"]) == {}
