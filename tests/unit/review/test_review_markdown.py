"""Readable template values and safe Markdown table cells."""

from __future__ import annotations

from mlops_tools.review.markdown import Values, before_after, code, number, plain, table


def test_values_render_references_joins_substitutions_and_imports() -> None:
    exporter = {
        "Outputs": {
            "A": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}, "Export": {"Name": "f:KeyArn"}},
            "B": {"Value": {"Fn::Join": ["", ["x", "y"]]}, "Export": {"Name": "f:Joined"}},
        }
    }
    values = Values.of({"dev-Foundation": exporter})
    join = {"Fn::Join": [":", ["arn", {"Ref": "AWS::Partition"}, {"Fn::GetAtt": "Bucket.Arn"}]]}
    assert values.text(join) == "arn:${AWS::Partition}:${Bucket.Arn}"
    assert values.text({"Fn::Sub": ["${Name}-x", {"Name": {"Ref": "Env"}}]}) == "${Env}-x"
    assert values.text({"Fn::Sub": "${AWS::Region}"}) == "${AWS::Region}"
    assert values.text({"Fn::ImportValue": "f:KeyArn"}) == "${dev-Foundation:Key.Arn}"
    assert values.text({"Fn::ImportValue": "f:Joined"}) == "${import f:Joined}"
    assert values.label("f:Unknown") == "import f:Unknown"
    assert values.text([1, True, None]) == "1, true, null"
    assert values.text({"Fn::Select": [0, ["a"]]}) == '{"Fn::Select": [0, ["a"]]}'


def test_cells_escape_pipes_backticks_and_html() -> None:
    assert code("a|b") == "`a\\|b`"
    assert code("a`b") == "`` a`b ``"
    assert plain("x <y> | z\nw") == "x &lt;y&gt; \\| z<br>w"
    assert table(["h"], [[""]]) == ["| h |", "| --- |", "| — |"]


def test_numbers_and_before_after() -> None:
    assert [number(1.0), number(0.25), number(100 / 3)] == ["1", "0.25", "33.3"]
    assert before_after("1", "1") == "1"
    assert before_after(None, None) == "—"
    assert before_after("1", None) == "**1 → —**"
