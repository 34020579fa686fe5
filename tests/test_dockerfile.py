"""Pure tests of `nbdocker.dockerfile`: no engine, no shell.

The corpus in `tests/dockerfiles/` pairs each `NAME.Dockerfile` with `NAME.expected.json`: every
instruction's span and stage, and — for the files Engine 20.10 can build — the step names both
builders really printed (`observed_steps`, recorded with `docker build` on that engine), each with
the line it must map to. The classic builder's `Step N/M : TEXT` also checks our joined `text`.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nbdocker.dockerfile.parse import (
    Dockerfile,
    Heredoc,
    Instruction,
    buildkit_only_features,
    parse_dockerfile,
    step_instruction,
)
from nbdocker.errors import DockerfileError

CORPUS = Path(__file__).parent / "dockerfiles"
CORPUS_NAMES = sorted(p.name[: -len(".Dockerfile")] for p in CORPUS.glob("*.Dockerfile"))


def corpus(name: str) -> Dockerfile:
    # Bytes, not text mode: CRLF endings and the BOM must reach the parser as written.
    return parse_dockerfile((CORPUS / f"{name}.Dockerfile").read_bytes().decode("utf-8"))


def expected(name: str) -> dict:
    return json.loads((CORPUS / f"{name}.expected.json").read_text(encoding="utf-8"))


# ------------------------------------------------------------------------------ corpus


def test_corpus_is_complete():
    assert len(CORPUS_NAMES) >= 15
    for name in CORPUS_NAMES:
        assert (CORPUS / f"{name}.expected.json").exists(), name


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_spans_and_stages(name):
    df, want = corpus(name), expected(name)
    got = []
    for ins in df.instructions:
        row = {"keyword": ins.keyword, "line_start": ins.line_start, "line_end": ins.line_end,
               "stage": ins.stage, "stage_name": ins.stage_name, "arguments": ins.arguments,
               "text": ins.text}
        if ins.flags:
            row["flags"] = ins.flags
        if ins.exec_form is not None:
            row["exec_form"] = ins.exec_form
        if ins.heredocs:
            row["heredocs"] = [{"name": h.name, "body": h.body, "strip_tabs": h.strip_tabs,
                                "quoted": h.quoted, "line_start": h.line_start,
                                "line_end": h.line_end} for h in ins.heredocs]
        got.append(row)
    assert got == want["instructions"]
    assert [vars(s) for s in df.stages] == want["stages"]
    assert df.escape == want["escape"]
    assert df.directives == want["directives"]
    assert [list(w) for w in df.warnings] == want.get("warnings", [])


@pytest.mark.parametrize("name", CORPUS_NAMES)
def test_corpus_original_is_the_source_lines(name):
    df = corpus(name)
    source = (CORPUS / f"{name}.Dockerfile").read_bytes().decode("utf-8").lstrip("\ufeff")
    lines = source.replace("\r\n", "\n").split("\n")
    for ins in df.instructions:
        assert ins.original == "\n".join(lines[ins.line_start - 1:ins.line_end])


OBSERVED = [(name, kind, step, line)
            for name in CORPUS_NAMES
            for kind, steps in expected(name).get("observed_steps", {}).items()
            for step, line in steps]


@pytest.mark.parametrize("name,kind,step,line", OBSERVED)
def test_observed_step_names_map_to_their_line(name, kind, step, line):
    found = step_instruction(corpus(name), step)
    assert (found.line_start if found else None) == line


@pytest.mark.parametrize("name,step", [(n, s) for n, k, s, _ in OBSERVED if k == "classic"])
def test_classic_step_text_is_our_joined_text(name, step):
    """The classic builder prints the instruction as Docker joined it: our `text` must be it."""
    number = int(step.split()[1].split("/")[0])
    assert corpus(name).instructions[number - 1].text == step.split(" : ", 1)[1]


# ----------------------------------------------------------------------- parsing details


def test_keywords_are_upper_cased_and_text_keeps_the_writing():
    df = corpus("lowercase")
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "RUN", "WORKDIR", "FROM", "COPY", "CMD"]
    assert df.instructions[2].text == "Run echo mixed"
    assert df.stages[0].name == "first"  # `as First`: Docker lower-cases stage names


def test_meta_args_belong_to_no_stage():
    df = corpus("meta_args")
    assert [(i.keyword, i.stage, i.stage_name) for i in df.instructions[:3]] == [
        ("ARG", None, None), ("ARG", None, None), ("FROM", 0, "base")]


def test_comment_and_blank_lines_inside_a_continuation_are_skipped():
    df = parse_dockerfile("FROM busybox\nRUN echo a \\\n  # note\n\n  b\nRUN echo c\n")
    run = df.instructions[1]
    assert (run.line_start, run.line_end, run.arguments) == (2, 5, "echo a   b")
    assert run.original == "RUN echo a \\\n  # note\n\n  b"
    assert df.warnings == [(5, "empty continuation line (Docker warns these will become errors)")]


def test_an_escaped_escape_does_not_continue():
    df = parse_dockerfile("FROM busybox\nRUN echo \\\\\nRUN echo next\n")
    assert [i.line_start for i in df.instructions] == [1, 2, 3]


def test_backtick_escape_leaves_backslash_plain():
    df = parse_dockerfile("# escape=`\nFROM busybox\nRUN dir c:\\ `\n  /w\n")
    assert df.escape == "`"
    assert df.instructions[1].text == "RUN dir c:\\   /w"


def test_directives_only_at_the_top_and_case_insensitive():
    df = parse_dockerfile("# ESCAPE = `\n# Syntax=docker/dockerfile:1\n\n# check=error=true\nFROM a\n")
    assert df.directives == {"escape": "`", "syntax": "docker/dockerfile:1"}  # the blank line ended them
    df = parse_dockerfile("# hello\n# escape=`\nFROM a\n")
    assert df.escape == "\\" and df.directives == {}  # a plain comment ended them


def test_lone_carriage_return_is_not_a_line_break():
    df = parse_dockerfile("FROM busybox\nRUN printf 'a\rb'\n")
    assert df.instructions[1].arguments == "printf 'a\rb'"


def test_bytes_after_last_newline_are_a_line():
    df = parse_dockerfile("FROM busybox\nRUN echo no newline at the end")
    assert df.instructions[-1].line_start == 2


def test_flags_repeat_with_newline_and_bare_booleans_read_true():
    flags = corpus("flags").instructions[1].flags
    assert flags == {"mount": "type=cache,target=/root/.cache\ntype=tmpfs,target=/tmp", "network": "none"}
    assert corpus("flags").instructions[3].flags["link"] == "true"
    df = parse_dockerfile('FROM a\nCOPY --chown="1 2" --link=FALSE x y\n')
    assert df.instructions[1].flags == {"chown": "1 2", "link": "false"}


def test_double_dash_ends_flags():
    assert corpus("flags").instructions[5].arguments == "--weird-name /b"


@pytest.mark.parametrize("line,form", [
    ('CMD ["a", "b"]', ["a", "b"]),
    ("CMD []", []),
    ('CMD ["a" "b"]', None),  # invalid JSON: shell form, not an error
    ("CMD [a]", None),
    ('CMD ["a", NaN]', None),  # Go's JSON has no NaN, so Docker sees shell form
    ('CMD ["a"] b', ["a"]),  # Engine 20.10 reads only the first JSON value (checked)
    ('ENTRYPOINT  ["x"]', ["x"]),
    ('HEALTHCHECK CMD ["true"]', ["true"]),
    ('LABEL x=["a"]', None),
])
def test_exec_form(line, form):
    assert parse_dockerfile(f"FROM a\n{line}\n").instructions[1].exec_form == form


def test_heredocs_several_on_one_line_strip_tabs_and_quoting():
    df = corpus("heredoc_multi")
    run = df.instructions[1]
    assert [(h.name, h.strip_tabs, h.quoted) for h in run.heredocs] == [
        ("FIRST", False, False), ("SECOND", True, True)]
    assert run.heredocs[1].body == "second, tabs stripped\n"
    assert df.instructions[2].heredocs == (Heredoc("EOT", "hello\n", False, False, 10, 11),)
    # Not heredocs: a quoted <<, exec form, and CMD (only RUN, COPY, ADD take them)
    assert [i.heredocs for i in df.instructions[4:]] == [(), (), ()]


def test_heredoc_span_covers_the_bodies():
    df = corpus("heredoc_basic")
    assert (df.instructions[1].line_start, df.instructions[1].line_end) == (2, 5)
    assert df.instruction_at(4) is df.instructions[1]
    assert df.instruction_at(6).keyword == "CMD"


def test_heredoc_with_crlf_and_word_boundaries():
    df = parse_dockerfile("FROM a\r\nRUN cat<<EOF\r\nRUN 2<<X python3\r\nprint(1)\r\nX\r\n")
    # `cat<<EOF` is one word that does not start with <<: BuildKit does not see a heredoc there.
    assert df.instructions[1].heredocs == ()
    assert df.instructions[2].heredocs == (Heredoc("X", "print(1)\n", False, False, 4, 5),)


def test_stage_named_by_name_or_index():
    df = corpus("multistage_named")
    assert df.stage_named("BUILDER").line == 1
    assert df.stage_named("1").name == "tester"
    assert df.stage_named(2).base == "busybox"
    assert df.stage_named("missing") is None and df.stage_named("7") is None


def test_stage_platform():
    assert corpus("flags").stages[0].platform == "linux/amd64"


def test_instructions_are_hashable():
    assert len({*corpus("flags").instructions}) == len(corpus("flags").instructions)
    assert str(corpus("tutorial").instructions[1]) == 'RUN echo "hello from the build" > /hello.txt'


# ------------------------------------------------------------------------------ errors

ERRORS = [
    ("", None, "the Dockerfile is empty: write at least FROM <image>"),
    ("  \n\t\n", None, "the Dockerfile is empty"),
    ("# only a comment\n\n# another\n", None, "the Dockerfile is empty"),
    ("# syntax=docker/dockerfile:1\n", None, "the Dockerfile is empty"),
    ("FORM busybox\n", 1, 'unknown instruction "FORM" (did you mean FROM?)'),
    ("FROM busybox\nRUNN echo hi\n", 2, 'unknown instruction "RUNN" (did you mean RUN?)'),
    ("FROM busybox\ncpy a b\n", 2, 'unknown instruction "cpy" (did you mean COPY?)'),
    ("FROM busybox\nBANANA split\n", 2, 'unknown instruction "BANANA"'),
    ("RUN echo hi\nFROM busybox\n", 1, "RUN comes before the first FROM"),
    ("ARG A=1\nENV B=2\nFROM busybox\n", 2, "ENV comes before the first FROM"),
    ("ARG X\n", None, "there is no FROM"),
    ("FROM\n", 1, "FROM needs an image to start from"),
    ("FROM busybox AS\n", 1, "FROM takes an image and an optional stage name"),
    ("FROM busybox builder\n", 1, "FROM takes an image and an optional stage name"),
    ("FROM busybox AS 1st\n", 1, 'stage name "1st" is not allowed'),
    ("FROM a AS x\nRUN true\nFROM b AS X\n", 3, 'stage name "x" is already used by the FROM on line 1'),
    ("FROM a AS me\nCOPY --from=ME /a /b\n", 2, "COPY --from=ME names the stage it is in"),
    ("FROM a\nRUN\n", 2, "RUN needs a command to run"),
    ("FROM a\nRUN \\\n\n", 2, "RUN needs a command to run"),
    ("FROM a\nCOPY onlyone\n", 2, "COPY needs a source and a destination"),
    ("FROM a\nADD x\n", 2, "ADD needs a source and a destination"),
    ("FROM a\nCOPY x <<EOF\nEOF\n", 2, "COPY cannot write to a heredoc"),
    ("FROM a\nWORKDIR\n", 2, "WORKDIR needs a directory"),
    ("FROM a\nUSER\n", 2, "USER needs a user name or id"),
    ("FROM a\nEXPOSE\n", 2, "EXPOSE needs at least one port"),
    ("FROM a\nVOLUME\n", 2, "VOLUME needs at least one path"),
    ('FROM a\nVOLUME [""]\n', 2, "VOLUME cannot be an empty string"),
    ("FROM a\nARG\n", 2, "ARG needs a name"),
    ("FROM a\nARG =x\n", 2, "ARG names cannot be blank"),
    ("FROM a\nENV\n", 2, "ENV needs a name and a value"),
    ("FROM a\nENV ONLYNAME\n", 2, "ENV ONLYNAME needs a value: write ENV ONLYNAME=<value>"),
    ("FROM a\nENV A=1 B\n", 2, 'ENV expects name=value pairs, and "B" has no "="'),
    ("FROM a\nLABEL =x\n", 2, "LABEL names cannot be blank"),
    ("FROM a\nSHELL\n", 2, "SHELL needs a JSON array"),
    ("FROM a\nSHELL /bin/bash -c\n", 2, "SHELL must be written as a JSON array"),
    ("FROM a\nSHELL []\n", 2, "SHELL needs a JSON array"),
    ("FROM a\nHEALTHCHECK\n", 2, "HEALTHCHECK needs CMD <command> or NONE"),
    ("FROM a\nHEALTHCHECK CMD\n", 2, "HEALTHCHECK CMD needs a command"),
    ("FROM a\nHEALTHCHECK NONE now\n", 2, "HEALTHCHECK NONE takes no arguments"),
    ("FROM a\nHEALTHCHECK PING x\n", 2, 'HEALTHCHECK needs CMD or NONE, not "PING"'),
    ("FROM a\nONBUILD\n", 2, "ONBUILD needs an instruction"),
    ("FROM a\nONBUILD ONBUILD RUN x\n", 2, "ONBUILD cannot trigger ONBUILD"),
    ("FROM a\nSTOPSIGNAL\n", 2, "STOPSIGNAL needs a signal"),
    ("FROM a\nMAINTAINER\n", 2, "MAINTAINER needs a name"),
    ('FROM a\nCMD ["sleep", 5]\n', 2, "a JSON array (exec form) may contain only strings"),
    ('FROM a\nRUN ["a", ["b"]]\n', 2, "may contain only strings"),
    ("FROM a\nRUN <<EOF\necho hi\n", 2, "heredoc <<EOF is never closed: end it with a line that is exactly EOF"),
    ("FROM a\nRUN cat \\\n  <<'END'\nbody\n", 3, "heredoc <<END is never closed"),
    ("FROM a\nRUN <<-EOF\n\techo\n  EOF\n", 2, "heredoc <<EOF is never closed"),  # <<- strips tabs, not spaces
    ("FROM a\nRUN --foo=bar echo\n", 2, "unknown flag --foo for RUN (RUN accepts --mount, --network"),
    ("FROM a\nRUN --mout=type=cache,target=/c echo\n", 2, "unknown flag --mout for RUN (did you mean --mount?)"),
    ("FROM a\nCMD --port=80\n", 2, "unknown flag --port for CMD (CMD accepts no flags)"),
    ("FROM a\nCOPY --from a b\n", 2, "--from needs a value: write --from=<value>"),
    ("FROM a\nCOPY --link=yes a b\n", 2, '--link takes true or false, not "yes"'),
    ("FROM a\nCOPY --chown=1 --chown=2 a b\n", 2, "--chown is given twice"),
    ("# escape=x\nFROM a\n", 1, 'the escape directive accepts \\ or ` (backtick), not "x"'),
    ("# escape=`\n# Escape=\\\nFROM a\n", 2, 'only one "# escape=" parser directive is allowed'),
    ("# syntax=a\n# syntax=b\nFROM a\n", 2, 'only one "# syntax=" parser directive is allowed'),
]


@pytest.mark.parametrize("text,line,message", ERRORS)
def test_errors_name_the_line_and_what_to_do(text, line, message):
    with pytest.raises(DockerfileError) as caught:
        parse_dockerfile(text)
    assert caught.value.line == line
    assert message in str(caught.value)
    if line is not None:
        assert str(caught.value).startswith(f"line {line}: ")


def test_first_error_in_file_order_wins():
    with pytest.raises(DockerfileError) as caught:
        parse_dockerfile("FROM a\nRUNN x\nCOPY y\n")
    assert caught.value.line == 2


def test_what_docker_accepts_is_accepted():
    parse_dockerfile("FROM a\nCMD\nENTRYPOINT\n")  # empty CMD/ENTRYPOINT reset them
    parse_dockerfile("FROM a\nRUN [ -f /x ] || echo shell form\n")
    parse_dockerfile("FROM a\nWORKDIR /a b\n")  # one argument: the rest of the line
    parse_dockerfile("FROM a\nENV OLD style value\nLABEL k=v\nARG A B=\n")
    parse_dockerfile("FROM a\nHEALTHCHECK --interval=5s CMD true\nONBUILD RUN x\n")


# ------------------------------------------------------------- classic builder support


def test_buildkit_only_features_lists_lines_in_order():
    assert buildkit_only_features(corpus("flags")) == [
        (2, "RUN --mount needs BuildKit"),
        (2, "RUN --network needs BuildKit"),
        (6, "RUN --security needs BuildKit"),
        (7, "COPY --chmod needs BuildKit"),
        (7, "COPY --link needs BuildKit"),
        (11, "ADD --checksum needs BuildKit"),
        (12, "ADD --keep-git-dir needs BuildKit"),
    ]


def test_buildkit_only_features_heredocs():
    assert buildkit_only_features(corpus("heredoc_multi")) == [
        (3, "heredocs (<<FIRST) need BuildKit"),
        (9, "heredocs (<<EOT) need BuildKit"),
        (12, "heredocs (<<CONF) need BuildKit"),
    ]
    assert buildkit_only_features(corpus("onbuild_healthcheck")) == [
        (10, "heredocs (<<EOF) need BuildKit")]


@pytest.mark.parametrize("name", ["tutorial", "multistage_named", "meta_args", "exec_shell_forms",
                                  "escape_backtick", "directives", "lowercase"])
def test_classic_friendly_files_need_nothing(name):
    # Each of these was built by the classic builder of Engine 20.10.
    assert buildkit_only_features(corpus(name)) == []


def test_classic_flags_are_fine():
    df = parse_dockerfile("FROM --platform=linux/amd64 a AS b\nFROM a\nCOPY --from=b --chown=1 x y\n"
                          "ADD --chown=1 x y\nHEALTHCHECK --interval=5s --retries=2 CMD true\n")
    assert buildkit_only_features(df) == []
    df = parse_dockerfile("FROM a\nHEALTHCHECK --start-interval=1s CMD true\n")
    assert buildkit_only_features(df) == [(2, "HEALTHCHECK --start-interval needs BuildKit")]


# --------------------------------------------------------------------------- step names

MULTI = """\
ARG BASE=busybox
FROM ${BASE} AS builder
RUN echo building > /out
COPY a /a
FROM busybox
COPY --from=builder /out /out
RUN echo two
FROM busybox as Final
COPY --from=1 /out /out2
Run echo "$TAG" done
CMD ["cat", "/out2"]
"""


@pytest.mark.parametrize("step,line", [
    # Classic builder, Engine 20.10: every instruction counts, the meta ARG included.
    ("Step 1/11 : ARG BASE=busybox", 1),
    ("Step 2/11 : FROM ${BASE} AS builder", 2),
    ("Step 6/11 : COPY --from=builder /out /out", 6),
    ("Step 10/11 : Run echo \"$TAG\" done", 10),
    ("Step 11/11 : CMD [\"cat\", \"/out2\"]", 11),
    (" Step 3/11 : RUN echo building > /out\n", 3),
    # BuildKit through the Engine API (version=2), Engine 20.10: per-stage numbering of layer steps.
    ("[stage-1 1/3] FROM docker.io/library/busybox", 5),
    ("[builder 2/3] RUN echo building > /out", 3),
    ("[builder 3/3] COPY a /a", 4),
    ("[stage-1 2/3] COPY --from=builder /out /out", 6),
    ("[final 2/4] COPY --from=1 /out /out2", 9),
    ("[final 4/4] RUN echo \"$TAG\" done", 10),
    ("[internal] load remote build context", None),
    ("copy /context /", None),
    ("[internal] load metadata for docker.io/library/busybox:latest", None),
    ("exporting to image", None),
    # Forms from BuildKit's source, not producible on Engine 20.10's built-in frontend:
    ("[internal] load build definition from Dockerfile", None),
    ("[auth] library/busybox:pull token for registry-1.docker.io", None),
    ("[linux/amd64 builder 2/3] RUN echo building > /out", 3),  # multi-platform prefix
    ("[final 2/4] ONBUILD RUN echo from the base image", None),  # a trigger from the base image
    ("", None),
    ("Step x/y : RUN", None),
])
def test_step_names_of_both_builders(step, line):
    found = step_instruction(parse_dockerfile(MULTI), step)
    assert (found.line_start if found else None) == line


def test_buildkit_heredoc_step_name():
    # dockerfile2llb names a heredoc RUN "RUN <<EOF (first line...)" (summarizeHeredoc).
    df = corpus("heredoc_basic")
    found = step_instruction(df, '[2/2] RUN <<EOF (echo "a heredoc runs as a script"...)')
    assert found is df.instructions[1]


def test_buildkit_expanded_names_fall_back_to_text():
    # The position points at the wrong instruction (a base image's WORKDIR shifted it, say):
    # the text, with its variables expanded, still finds the right one.
    df = parse_dockerfile("FROM busybox\nENV D=/data\nRUN echo one\nRUN mkdir $D\n")
    assert step_instruction(df, "[2/3] RUN mkdir /data").line_start == 4
    assert step_instruction(df, "[3/3] RUN echo one").line_start == 3


def test_a_stage_named_like_an_unnamed_one():
    df = parse_dockerfile("FROM busybox\nRUN echo zero\nFROM busybox AS stage-0\nRUN echo named\n")
    assert step_instruction(df, "[stage-0 2/2] RUN echo named").line_start == 4


def test_classic_total_mismatch_falls_back_to_text():
    df = parse_dockerfile("FROM busybox\nRUN echo a\nRUN echo b\n")
    assert step_instruction(df, "Step 7/9 : RUN echo b").line_start == 3
    assert step_instruction(df, "Step 7/9 : RUN echo c") is None  # two RUNs: no guessing


def test_describes_instruction_type():
    ins = corpus("tutorial").instructions[2]
    assert isinstance(ins, Instruction) and ins.exec_form == ["cat", "/hello.txt"]
