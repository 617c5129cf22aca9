"""What a file copied from another environment still holds of it (mlops_cdk.config.cross_file):
one line naming both files and the field; sharing what may be shared is no problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_cdk.config import ConfigError, load_environments
from tests.helpers import CONFIG_DIR


def config_with(tmp_path: Path, files: dict[str, Callable[[str], str]]) -> Path:
    """The fixture environments, and each of ``files`` (``"<target>=<source>"`` -> edit)
    written as ``<target>.yaml`` from the fixture ``<source>.yaml``, edited."""
    folder = tmp_path / "config"
    folder.mkdir(parents=True)
    for path in CONFIG_DIR.glob("*.yaml"):
        if path.stem != "pipeline":
            (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    for spec, edit in files.items():
        target, source = spec.split("=")
        text = (CONFIG_DIR / f"{source}.yaml").read_text(encoding="utf-8")
        (folder / f"{target}.yaml").write_text(edit(text), encoding="utf-8")
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_environments(folder)
    prefix = f"{folder}/"
    return [line.replace(prefix, "") for line in caught.value.problems]


def edits(*pairs: tuple[str, str]) -> Callable[[str], str]:
    def edit(text: str) -> str:
        for old, new in pairs:
            assert old in text, old
            text = text.replace(old, new)
        return text

    return edit


NEW_ACCOUNT = (
    ('account: "222222222222"', 'account: "555555555555"'),
    ("arn:aws:iam::222222222222:role/ml-platform-operator",
     "arn:aws:iam::555555555555:role/ml-platform-operator"),
)  # fmt: skip
OWN_RANGE = ("cidr: 10.20.0.0/16", "cidr: 10.40.0.0/16")
OWN_EMAILS = ("ml-stage-alerts@example.com", "ml-qa-alerts@example.com")


def test_a_copy_with_every_step_of_the_readme_is_valid(tmp_path: Path) -> None:
    folder = config_with(tmp_path, {"qa=stage": edits(*NEW_ACCOUNT, OWN_RANGE, OWN_EMAILS)})
    qa = {env.name: env for env in load_environments(folder)}["qa"]
    assert (qa.account, str(qa.network.new_vpc.cidr if qa.network.new_vpc else None)) == (
        "555555555555",
        "10.40.0.0/16",
    )


def test_an_unedited_copy_reports_its_range_and_its_e_mail_naming_both_files(
    tmp_path: Path,
) -> None:
    """stage.yaml copied to qa.yaml as is: same (non-production) account, which may be shared,
    but the same VPC range and stage's alarm address."""
    assert problems(config_with(tmp_path, {"qa=stage": edits()})) == [
        "qa.yaml: network.new_vpc.cidr: 10.20.0.0/16 overlaps stage.yaml's "
        "network.new_vpc.cidr 10.20.0.0/16: give each environment a range of its own "
        "(overlapping VPCs can never be peered or routed)",
        "qa.yaml: monitoring.alarm_emails[0]: 'ml-stage-alerts@example.com' names environment "
        "'stage' (stage.yaml), not 'qa': a copied address? set this environment's recipients",
    ]


def test_non_production_environments_may_share_an_account(tmp_path: Path) -> None:
    """dev and stage in one non-production account: every name starts with the environment's."""
    folder = config_with(tmp_path, {"qa=stage": edits(OWN_RANGE, OWN_EMAILS)})
    by_name = {env.name: env for env in load_environments(folder)}
    assert by_name["qa"].account == by_name["stage"].account


def test_a_production_account_is_its_own(tmp_path: Path) -> None:
    # prod.yaml copied to prod-eu.yaml with its own range: still prod's account.
    copy = edits(("cidr: 10.30.0.0/16", "cidr: 10.50.0.0/16"))
    assert problems(config_with(tmp_path, {"prod-eu=prod": copy})) == [
        "prod-eu.yaml: account: 333333333333 is also the account of prod.yaml, and prod is a "
        "production environment: give production an account of its own (AWS Well-Architected "
        "SEC01-BP01) or set this file's account",
    ]


def test_a_non_production_environment_in_the_production_account_is_refused(
    tmp_path: Path,
) -> None:
    copy = edits(
        ('account: "222222222222"', 'account: "333333333333"'),
        ("arn:aws:iam::222222222222:role/", "arn:aws:iam::333333333333:role/"),
        OWN_RANGE,
        OWN_EMAILS,
    )
    (line,) = problems(config_with(tmp_path, {"qa=stage": copy}))
    assert line.startswith(
        "qa.yaml: account: 333333333333 is also the account of prod.yaml, and prod is a "
        "production environment: "
    )


def test_a_range_inside_another_environments_range_overlaps(tmp_path: Path) -> None:
    copy = edits(*NEW_ACCOUNT, ("cidr: 10.20.0.0/16", "cidr: 10.30.128.0/17"), OWN_EMAILS)
    (line,) = problems(config_with(tmp_path, {"qa=stage": copy}))
    assert line.startswith(
        "qa.yaml: network.new_vpc.cidr: 10.30.128.0/17 overlaps prod.yaml's "
        "network.new_vpc.cidr 10.30.0.0/16: "
    )


EXISTING_VPC = """network:
  existing_vpc:
    vpc_id: vpc-0123456789abcdef0
    cidr: {cidr}
    availability_zones: [eu-west-1a, eu-west-1b]
    private_subnet_ids: [subnet-01234567, subnet-89abcdef]
    route_table_ids: [rtb-01234567, rtb-89abcdef]
"""
NEW_VPC = "network:\n  new_vpc:\n    cidr: 10.20.0.0/16\n    max_azs: 2\n"


def test_imported_vpcs_are_not_compared_but_a_created_one_is(tmp_path: Path) -> None:
    """qa and uat import one existing VPC (shared on purpose: not this app's range), whose
    range stage's created VPC overlaps."""
    imported = (NEW_VPC, EXISTING_VPC.format(cidr="10.20.0.0/16"))
    folder = config_with(
        tmp_path,
        {
            "qa=stage": edits(imported, OWN_EMAILS),
            "uat=stage": edits(imported, ("ml-stage-alerts@", "ml-uat-alerts@")),
        },
    )
    assert problems(folder) == [
        f"{name}.yaml: network.existing_vpc.cidr: 10.20.0.0/16 overlaps stage.yaml's "
        "network.new_vpc.cidr 10.20.0.0/16: give each environment a range of its own "
        "(overlapping VPCs can never be peered or routed)"
        for name in ("qa", "uat")
    ]
    # With stage's range moved, nothing overlaps: qa and uat share their VPC.
    stage = folder / "stage.yaml"
    stage.write_text(stage.read_text().replace("cidr: 10.20.0.0/16", "cidr: 10.40.0.0/16"))
    assert [env.name for env in load_environments(folder)][-2:] == ["qa", "uat"]


@pytest.mark.parametrize(
    ("address", "reported"),
    [
        ("ml-stage-alerts@example.com", True),
        ("oncall@stage.example.com", True),
        ("ml-dev@example.com", True),
        ("backstage-team@example.com", False),  # "stage" only as part of a word
        ("devops@example.com", False),
        ("ml-platform@example.com", False),  # prod's too: a team in several environments
        ("ml-qa-alerts@example.com", False),
    ],
)
def test_an_alarm_address_naming_another_environment_is_refused(
    tmp_path: Path, address: str, reported: bool
) -> None:
    folder = config_with(
        tmp_path, {"qa=stage": edits(*NEW_ACCOUNT, OWN_RANGE, ("ml-stage-alerts@example.com",
                                                                address))}
    )  # fmt: skip
    if not reported:
        load_environments(folder)
        return
    (line,) = problems(folder)
    assert line.startswith(f"qa.yaml: monitoring.alarm_emails[0]: {address!r} names environment ")


def test_an_environment_whose_name_holds_another_names_itself(tmp_path: Path) -> None:
    """``ml-stage-eu-alerts@`` in stage-eu.yaml names stage-eu, not stage."""
    copy = edits(*NEW_ACCOUNT, OWN_RANGE, ("ml-stage-alerts@", "ml-stage-eu-alerts@"))
    assert [env.name for env in load_environments(config_with(tmp_path, {"stage-eu=stage": copy}))
            ] == ["dev", "stage", "prod", "stage-eu"]  # fmt: skip


def test_one_environment_read_alone_is_not_compared(tmp_path: Path) -> None:
    """The tools (`make smoke ENV=qa`) read one file; the synth and the suite read them all."""
    folder = config_with(tmp_path, {"qa=stage": edits()})
    assert [env.name for env in load_environments(folder, only="qa")] == ["qa"]


def own_copy(index: int) -> Callable[[str], str]:
    """stage.yaml as environment ``t<index>``: its own range and recipients, stage's account
    and region, and its own trail (``change_detection.trail: create``)."""
    return edits(
        ("cidr: 10.20.0.0/16", f"cidr: 10.{40 + index}.0.0/16"),
        ("ml-stage-alerts@", f"ml-t{index}-alerts@"),
    )


def test_a_sixth_trail_in_one_account_and_region_is_refused(tmp_path: Path) -> None:
    """CloudTrail allows 5 trails per Region (a quota that cannot be raised): stage and four
    copies fit, a fifth copy's Foundation would fail to create its trail."""
    four = {f"t{i}=stage": own_copy(i) for i in range(1, 5)}
    assert "t4" in {env.name for env in load_environments(config_with(tmp_path / "a", four))}
    five = four | {"t5=stage": own_copy(5)}
    (line,) = problems(config_with(tmp_path / "b", five))
    assert line.startswith(
        "t5.yaml: change_detection.trail: create makes trail 6 in account 222222222222, "
        "eu-west-1 (stage.yaml, t1.yaml, t2.yaml, t3.yaml, t4.yaml create the others); "
        "CloudTrail allows 5 trails per Region and the quota cannot be raised: "
    )


def test_trails_in_other_regions_or_named_as_existing_do_not_count(tmp_path: Path) -> None:
    existing = (
        "\n  trail: create\n",
        "\n  trail: existing\n  existing_trail_name: org-audit-trail\n",
    )
    five = {f"t{i}=stage": own_copy(i) for i in range(1, 6)}
    elsewhere = five | {"t5=stage": lambda text: own_copy(5)(text).replace(
        "region: eu-west-1", "region: eu-central-1")}  # fmt: skip
    shared = five | {"t5=stage": lambda text: edits(existing)(own_copy(5)(text))}
    for case, files in {"elsewhere": elsewhere, "shared": shared}.items():
        loaded = load_environments(config_with(tmp_path / case, files))
        assert {f"t{i}" for i in range(1, 6)} <= {env.name for env in loaded}
