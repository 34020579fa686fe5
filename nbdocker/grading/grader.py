"""Running a spec's checks on one image, through the engine's sandbox operations.

Commands run in boxes (no network, memory and pids limits, a timeout, always removed); files are
read from one created, never started container per image. A check that cannot run (the engine
refused, the image is gone) fails with the reason; it never stops the other checks.
"""
from __future__ import annotations

from typing import Any

from nbdocker.dockerfile.lint import lint
from nbdocker.engine import sandbox
from nbdocker.engine.client import Engine
from nbdocker.errors import NbDockerError
from nbdocker.grading import spec as s
from nbdocker.grading import verdicts
from nbdocker.grading.report import CheckResult, GradeReport
from nbdocker.layers import analyze_image
from nbdocker.layers.waste import failed_rules

CONTENT_LIMIT = 1 << 20  # bytes of a file read for a content check
KINDS = {s.CommandTest: "command", s.FileExistenceTest: "file", s.FileContentTest: "content",
         s.MetadataTest: "metadata", s.ImageTest: "image", s.LintTest: "lint", s.WasteTest: "waste"}


def image_ref(image: Any) -> str:
    """The id or tag to grade: a BuildResult's image id, or the string given."""
    if isinstance(image, str):
        return image
    image_id = getattr(image, "image_id", None)
    if image_id:
        return str(image_id)
    raise NbDockerError("this build made no image (it failed, or was cancelled): nothing to check")


def dockerfile_text(image: Any) -> str | None:
    """A BuildResult's Dockerfile, each instruction back on its own lines (for lint findings)."""
    parsed = getattr(getattr(image, "progress", None), "dockerfile", None)
    if parsed is None or not getattr(parsed, "instructions", None):
        return None
    lines: list[str] = []
    for ins in parsed.instructions:
        lines += [""] * (ins.line_start - 1 - len(lines))
        lines += ins.original.split("\n")
    return "\n".join(lines) + "\n"


def grade_image(image: Any, spec: s.Spec | str | dict[str, Any], engine: Engine | None = None,
                run_id: str = "", dockerfile: str | None = None) -> GradeReport:
    """Run every check of `spec` on `image` (a BuildResult, a tag or an id)."""
    spec = spec if isinstance(spec, s.Spec) else s.parse_spec(spec)
    own = engine is None
    engine = engine or Engine()
    if dockerfile is None:
        dockerfile = dockerfile_text(image)
    try:
        ref = image_ref(image)
        attrs = sandbox.inspect_image(engine, ref)
    except NbDockerError as err:
        return GradeReport(str(getattr(image, "image_id", image)),
                           [_failed(t, str(err)) for t in spec.tests], reason=str(err))
    try:
        return GradeReport(ref, _run_all(engine, ref, attrs, spec, run_id, dockerfile))
    finally:
        if own:
            engine.close()


def _run_all(engine: Engine, ref: str, attrs: dict[str, Any], spec: s.Spec, run_id: str,
             dockerfile: str | None) -> list[CheckResult]:
    results: list[CheckResult] = []
    reader: sandbox.FileReader | None = None
    try:
        for test in spec.tests:
            try:
                if isinstance(test, (s.FileExistenceTest, s.FileContentTest)) and reader is None:
                    reader = sandbox.FileReader(engine, ref, run_id)
                problems, kind = _problems(engine, ref, attrs, spec, test, reader, run_id, dockerfile)
            except NbDockerError as err:
                problems, kind = [str(err)], KINDS.get(type(test), "")
            results.append(_result(test, problems, kind))
    finally:
        if reader is not None:
            reader.close()
    return results


def _problems(engine: Engine, ref: str, attrs: dict[str, Any], spec: s.Spec, test: s.Test,
              reader: sandbox.FileReader | None, run_id: str, dockerfile: str | None) -> tuple[list[str], str]:
    config = attrs.get("Config") or {}
    env = verdicts.env_map(config)
    if isinstance(test, s.MetadataTest):
        return verdicts.judge_metadata(test, config), "metadata"
    if isinstance(test, s.CommandTest):
        return run_command_test(engine, ref, test, env, spec.global_env_vars, run_id), "command"
    if isinstance(test, s.FileExistenceTest):
        info = reader.stat(verdicts.expand_env(test.path, env))
        found = (None,) if info is None else (info.kind, info.mode, info.uid, info.gid)
        return verdicts.judge_existence(test, *found), "file"
    if isinstance(test, s.FileContentTest):
        info = reader.read(verdicts.expand_env(test.path, env), CONTENT_LIMIT)
        if info is not None and info.kind == "dir":
            return [f"{test.path} is a directory, not a file"], "content"
        text = info.content.decode("utf-8", "replace") if info is not None and info.content is not None else None
        return verdicts.judge_content(test, text, "not found"), "content"
    if isinstance(test, s.ImageTest):
        base = None
        if test.base_image:
            try:
                base = (sandbox.inspect_image(engine, test.base_image).get("RootFS") or {}).get("Layers") or []
            except NbDockerError:
                base = None
        return verdicts.judge_image(test, attrs, base), "image"
    if isinstance(test, s.LintTest):
        if dockerfile is None:
            return ["no Dockerfile to lint: grade a BuildResult or a notebook submission"], "lint"
        found = [f for f in lint(dockerfile).findings if f.code in test.forbid]
        return [f"line {f.line}: {f.code} {f.message}" for f in found], "lint"
    if isinstance(test, s.WasteTest):
        rules = {"lowestEfficiency": test.lowest_efficiency, "highestWastedBytes": test.highest_wasted_bytes,
                 "highestUserWastedPercent": test.highest_user_wasted_percent}
        return failed_rules(analyze_image(engine, ref).waste, rules), "waste"
    return [f"{type(test).__name__} checks are not available in this version of nbdocker"], ""


def run_command_test(engine: Engine, ref: str, test: s.CommandTest, env: dict[str, str],
                     global_env: list[s.EnvVar], run_id: str) -> list[str]:
    """CST's command test: setup steps committed one on another, then the command, in boxes."""
    # CST commits globalEnvVars into the image first, then expands `$NAME` in the command from that
    # image's environment (a test's own envVars are set in the container but not expanded).
    variables = {e.key: verdicts.expand_env(e.value, env) for e in global_env}
    env = {**env, **variables}
    argv = [verdicts.expand_env(a, env) for a in [test.command, *test.args]]
    variables.update({e.key: e.value for e in test.env_vars})
    limits = sandbox.Limits(memory=test.memory, pids=test.pids, timeout=test.timeout)
    made: list[str] = []
    try:
        image = ref
        for step in test.setup:
            run, image = sandbox.run_and_commit(engine, image, [verdicts.expand_env(a, env) for a in step],
                                                variables, limits, run_id)
            if run.timed_out:
                return [f"the setup step {step} did not finish within {test.timeout:g} s (over limit)"]
            made.append(image)
        run = sandbox.run_command(engine, image, argv, variables, limits, run_id)
    finally:
        for image in reversed(made):
            sandbox.remove_image(engine, image)
    if run.timed_out:
        return [f"`{' '.join(argv)}` did not finish within {test.timeout:g} s (over limit)"]
    problems = verdicts.judge_command(test, run.exit_code, run.stdout, run.stderr)
    if run.oom_killed:
        problems.insert(0, f"`{' '.join(argv)}` ran out of memory (over limit: {test.memory})")
    return problems


def _result(test: s.Test, problems: list[str], kind: str) -> CheckResult:
    if not problems:
        return CheckResult(test.name, True, test.points, test.points, "passed", kind)
    message = test.message or problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
    return CheckResult(test.name, False, 0.0, test.points, message, kind, problems)


def _failed(test: s.Test, reason: str) -> CheckResult:
    return CheckResult(test.name, False, 0.0, test.points, reason, "", [reason])
