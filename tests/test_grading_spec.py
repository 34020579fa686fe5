"""Pure grading logic: the spec reader's one-line errors, verdicts on plain data, escaped reports."""
from __future__ import annotations

import json

import pytest

from nbdocker.grading import report, spec, verdicts
from nbdocker.views import render


@pytest.mark.parametrize("source, message", [
    ("commandTests:\n  - name: a\n    command: ls\n    exitcod: 1\n",
     "commandTests[0].exitcod: unknown key"),
    ("commandTests:\n  - name: a\n    command: ls\n    exitCode: zero\n",
     "commandTests[0].exitCode: expected an integer, got 'zero'"),
    ("fileContentTests:\n  - name: a\n    path: /x\n    expectedContents: ['(unclosed']\n",
     "fileContentTests[0].expectedContents[0]: bad regex '(unclosed'"),
    ("fileContentTests:\n  - name: a\n    path: /x\n    expectedContents: ['a(?=b)']\n",
     "fileContentTests[0].expectedContents[0]: regex 'a(?=b)' uses lookaround"),
    ("fileExistenceTests:\n  - name: a\n", "fileExistenceTests[0].path: required"),
    ("fileExistenceTests:\n  - {name: a, path: /x, shouldExist: 'yes'}\n",
     "fileExistenceTests[0].shouldExist: expected true or false, got 'yes'"),
    ("fileExistenceTests:\n  - {name: a, path: /x, permissions: 644}\n",
     "fileExistenceTests[0].permissions: expected a mode like -rw-r--r--, got '644'"),
    ("metadataTest:\n  labels: [{key: a, value: '[', isRegex: true}]\n",
     "metadataTest.labels[0].value: bad regex '['"),
    ("commandTest: []\n", "commandTest: unknown key"),
    ("schemaVersion: 1.0.0\n", "schemaVersion: only 2.0.0 is supported"),
    ("imageTests:\n  - {name: a, maxSize: big}\n", "imageTests[0].maxSize: expected a size"),
    ("commandTests: [\n", "not valid YAML at line 2"),
    ("- a\n", "expected a mapping"),
])
def test_bad_specs_are_one_line_errors_naming_the_key(source, message):
    with pytest.raises(spec.SpecError) as err:
        spec.parse_spec(source)
    text = err.value._render_traceback_()
    assert len(text) == 1 and "\n" not in text[0] and message in text[0]


def test_cst_defaults_and_our_keys():
    parsed = spec.parse_spec({"fileExistenceTests": [{"name": "f", "path": "/x"}],
                              "commandTests": [{"name": "c", "command": "ls", "points": 2.5,
                                                "message": "list!", "timeout": 3}],
                              "imageTests": [{"name": "i", "maxSize": "1.5MB", "notRoot": True}],
                              "metadataTest": {}})
    command, existence, image = parsed.tests  # CST's order: commands, files, then ours
    assert (existence.should_exist, existence.uid, existence.gid) == (True, -1, -1)
    assert (command.exit_code, command.points, command.timeout) == (0, 2.5, 3)
    assert image.max_size == 1_500_000 and parsed.max_score == 4.5


@pytest.mark.parametrize("kind, mode, expected", [
    ("file", 0o640, "-rw-r-----"), ("dir", 0o755, "drwxr-xr-x"), ("symlink", 0o777, "Lrwxrwxrwx"),
    ("file", 0o4755, "urwxr-xr-x"), ("dir", 0o1777, "dtrwxrwxrwx"), ("char", 0o666, "Dcrw-rw-rw-"),
    ("file", 0o2755, "grwxr-xr-x"), ("fifo", 0o600, "prw-------"),
])
def test_permission_strings_are_gos(kind, mode, expected):
    assert verdicts.go_mode_string(kind, mode) == expected


def test_dollar_means_end_of_text_as_in_go():
    test = spec.CommandTest(name="u", command="id", expected_output=["^1000$"])
    assert verdicts.judge_command(test, 0, "1000\n", "") != []
    assert verdicts.judge_command(test, 0, "1000", "") == []
    assert spec.go_pattern(r"a[$]b\$c$") == r"a[$]b\$c\Z"


def test_env_expansion_like_cst():
    env = {"APP": "/app", "X": "1"}
    assert verdicts.expand_env("$APP/${X}y $NOPE-z a$", env) == "/app/1y -z a$"


def test_metadata_and_image_verdicts():
    config = {"Env": ["A=1"], "Cmd": ["sh"], "User": "", "ExposedPorts": {"80/tcp": {}}}
    test = spec.MetadataTest(env_vars=[spec.EnvVar("A", "2")], cmd=[], exposed_ports=["80"],
                             unexposed_ports=["80"])
    assert len(verdicts.judge_metadata(test, config)) == 3
    image = spec.ImageTest(max_layers=1, not_root=True, base_image="b")
    attrs = {"Size": 10, "RootFS": {"Layers": ["l1", "l2"]}, "Config": {"User": "0:0"}}
    problems = verdicts.judge_image(image, attrs, ["l1"])
    assert problems == ["the image has 2 layers, more than 1", "the image runs as root: add a USER instruction"]
    assert verdicts.judge_image(image, attrs, ["other"])[1] == "the image is not built FROM b"


def test_reports_escape_student_strings_and_have_the_issue_shape():
    evil = "<img src=x onerror=alert(1)>"
    checks = [report.CheckResult(evil, False, 0, 2, evil), report.CheckResult("ok", True, 1, 1, "passed")]
    one = report.GradeReport("img", checks, path="alice.ipynb")
    run = report.RunReport([one])
    for html in (render.render_html(one.view()), report.report_html(run)):
        assert "<img" not in html and "&lt;img" in html
    data = json.loads(report.report_json(run))
    assert data == {"submissions": [{"path": "alice.ipynb", "score": 1, "max_score": 3, "checks": [
        {"name": evil, "passed": False, "points": 0, "message": evil},
        {"name": "ok", "passed": True, "points": 1, "message": "passed"}]}]}
    formula = report.RunReport([report.GradeReport("i", [report.CheckResult("c", False, 0, 1, "=cmd()")])])
    assert "'=cmd()" in report.report_csv(formula)
    assert "score 1/3" in str(one)
