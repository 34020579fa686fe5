"""Builds: `%%dockerfile` and `%docker build`, on BuildKit or the classic builder, live.

The request is checked before anything is sent (the Dockerfile parses, names a FROM, uses no
BuildKit-only syntax on the classic builder): Engine 20.10 crashes outright on some bad inputs.
The stream is read on a thread while the kernel's thread renders coalesced progress, so a
KeyboardInterrupt arrives at once; closing the response in `finally` cancels the build engine-side.
"""
from __future__ import annotations

import argparse
import builtins
import keyword
import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from nbdocker import cli
from nbdocker.views import render as views
from nbdocker.build.args import parse_pairs
from nbdocker.masking import is_secret_name
from nbdocker.build.events import ErrorEvent, decoder_for
from nbdocker.build.context import CELL_DOCKERFILE, DOCKERIGNORE, PatternError, pack_context
from nbdocker.dockerfile.lint import build_warnings, lint
from nbdocker.layers.command import explain_build
from nbdocker.dockerfile.parse import Dockerfile, buildkit_only_features, parse_dockerfile
from nbdocker.engine.client import pumped
from nbdocker.errors import (BuildCancelled, BuildFailed, DockerfileError, NbDockerError,
                     UsageError)
from nbdocker.commands.images import History, image_history
from nbdocker.commands.registry import auth_config_for, pull_image, registry_of, server_address
from nbdocker.build.progress import BuildProgress, Step
from nbdocker.references import parse_reference
from nbdocker.units import short_id
from nbdocker.views.display import WIDGET_VIEW_MIME, in_kernel
from nbdocker.views.results import Result, mimebundle

UPDATES_PER_SECOND = 10
SILENCE_NOTE_AFTER = 15.0  # seconds without output before the view says so

# ---------------------------------------------------------------- options


def add_build_options(p: cli.ArgumentParser) -> None:
    """The options `%%dockerfile` and `%docker build` share, with the docker CLI's names."""
    p.add_argument("-t", "--tag", action="append", default=[], metavar="NAME[:TAG]",
                   help="Name and optionally a tag (repeatable)")
    p.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE",
                   help="Set build-time variables (secret-looking names are masked and warned about)")
    p.add_argument("--target", metavar="STAGE", help="Build the named stage of a multi-stage Dockerfile")
    p.add_argument("--no-cache", action="store_true", help="Do not use cache when building the image")
    p.add_argument("--pull", action="store_true", help="Always attempt to pull a newer version of the image")
    p.add_argument("--label", action="append", default=[], metavar="KEY=VALUE", help="Set metadata for an image")
    p.add_argument("--network", metavar="MODE",
                   help="Networking mode for RUN (default: the engine's; none when it has no bridge)")
    p.add_argument("--platform", metavar="P", help="Set platform if server is multi-platform capable")
    p.add_argument("--builder", choices=("auto", "buildkit", "classic"), default=None,
                   help="Builder: BuildKit, the classic builder, or auto (BuildKit where offered)")
    p.add_argument("-q", "--quiet", action="store_true", help="Show only the result, no live progress")
    p.add_argument("--out", metavar="VAR", help="Store the BuildResult in this variable")


def dockerfile_parser() -> cli.ArgumentParser:
    """`%%dockerfile [options]`: the cell body is the Dockerfile."""
    p = cli.ArgumentParser(
        prog="%%dockerfile",
        description="Build the cell body as a Dockerfile, live. Without --context the context "
                    "holds only the Dockerfile.")
    p.add_argument("--context", metavar="DIR", help="Build context directory (its .dockerignore is honoured)")
    p.add_argument("--check", action="store_true",
                   help="Only parse: show the instructions, their stages and lines (no engine needed)")
    p.add_argument("--lint", action="store_true",
                   help="Only lint: Docker's build checks and hadolint's rules, each on its lines "
                        "(no engine needed; hadolint's own findings too when it is installed)")
    p.add_argument("--explain", action="store_true",
                   help="After the build, say per instruction what it put in the image (files, "
                        "sizes, config) and what wastes space")
    add_build_options(p)
    return p



def register(sub: Any, image_sub: Any) -> None:
    """`%docker build` and `%docker image build`."""
    for parent, prog in ((sub, "%docker build"), (image_sub, "%docker image build")):
        p = cli.add_command(parent, "build", _run_build_command,
                            "Build an image from a Dockerfile and a context directory", prog=prog)
        p.add_argument("-f", "--file", metavar="FILE",
                       help="Name of the Dockerfile, from the current directory (default: PATH/Dockerfile)")
        add_build_options(p)
        p.add_argument("path", metavar="PATH", help="The build context directory")


@dataclass
class BuildRequest:
    """Everything one build needs, checked, before anything is sent."""

    dockerfile_text: str
    dockerfile: Dockerfile
    context_dir: str | None = None
    dockerfile_name: str = "Dockerfile"
    dockerfile_in_context: bool = False  # %docker build: the file is sent as part of the context
    tags: list[str] = field(default_factory=list)
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    target: str | None = None
    no_cache: bool = False
    pull: bool = False
    network: str | None = None
    platform: str | None = None
    builder: str = "auto"
    quiet: bool = False
    out: str | None = None
    # Grading untrusted Dockerfiles: seconds before the build is stopped, and the Engine API's
    # build limits (memory, memswap, cpuquota, ulimits …: the classic builder honours them,
    # BuildKit through the API on Engine 20.10 does not).
    timeout: float | None = None
    limits: dict[str, str] = field(default_factory=dict)
    stop: Any = None  # a threading.Event another thread sets to cancel the build (grader's Ctrl-C)

    @property
    def secrets(self) -> dict[str, str]:
        return {k: v for k, v in self.build_args.items() if is_secret_name(k)}


def _request(args: argparse.Namespace, session: cli.Session, text: str, **where: Any) -> BuildRequest:
    for tag in args.tag:
        parse_reference(tag, allow_digest=False)
    check_out_name(args.out)
    df = parse_dockerfile(text)
    if args.target is not None and df.stage_named(args.target) is None:
        names = [s.name or str(s.index) for s in df.stages]
        raise DockerfileError(f"--target {args.target!r}: no such stage (stages: {', '.join(names)})")
    return BuildRequest(
        dockerfile_text=text, dockerfile=df, tags=list(args.tag),
        build_args=parse_pairs(args.build_arg, "--build-arg"), labels=parse_pairs(args.label, "--label"),
        target=args.target, no_cache=args.no_cache, pull=args.pull, network=args.network,
        platform=args.platform, builder=args.builder or session.builder, quiet=args.quiet, out=args.out,
        **where,
    )


def check_out_name(name: str | None) -> None:
    """`--out NAME` must be a plain variable: `__builtins__` or `print` would break later cells."""
    if name is None:
        return
    if not name.isidentifier() or keyword.iskeyword(name):
        raise UsageError(f"--out {name!r}: not a Python variable name", "%%dockerfile")
    if name.startswith("__") or hasattr(builtins, name):
        raise UsageError(f"--out {name!r}: that name belongs to Python itself; choose another "
                         "(e.g. --out build)", "%%dockerfile")


def is_nbgrader_stub(cell: str) -> bool:
    """nbgrader replaces a solution with `raise NotImplementedError()`."""
    code = [line.strip() for line in cell.splitlines()
            if line.strip() and not line.strip().startswith("#")]
    return bool(code) and all(line.startswith("raise NotImplementedError") for line in code)


def run_dockerfile_cell(session: cli.Session, line: str, cell: str) -> BuildResult | None:
    """`%%dockerfile`: parse the line, build the cell body."""
    if is_nbgrader_stub(cell):
        raise NotImplementedError("this Dockerfile cell is still to be written (nbgrader stub)")
    try:
        args = dockerfile_parser().parse_args(cli.split_line(line))
    except cli.HelpShown:
        return None
    if args.check:
        return DockerfileSummary(parse_dockerfile(cell))
    if args.lint:
        return lint(cell)
    context = None
    if args.context is not None:
        context = os.path.expanduser(args.context)
        if not os.path.isdir(context):
            raise UsageError(f"--context {args.context!r}: not a directory", "%%dockerfile")
    request = _request(args, session, cell, context_dir=context,
                       dockerfile_name=CELL_DOCKERFILE if context else "Dockerfile")
    result = run_build(session, request)
    if args.explain:
        session.show(explain_build(session, result))  # then the build itself, as the cell's result
    return result


def _run_build_command(session: cli.Session, args: argparse.Namespace) -> BuildResult:
    path = os.path.expanduser(args.path)
    if not os.path.isdir(path):
        raise UsageError(f"PATH {args.path!r}: not a directory", "%docker build")
    # As the docker CLI reads it: -f FILE from the current directory, PATH/Dockerfile without -f.
    file_path = os.path.abspath(os.path.expanduser(args.file)) if args.file else os.path.join(path, "Dockerfile")
    try:
        with open(file_path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise UsageError(f"cannot read the Dockerfile {file_path!r}: {err.strerror}", "%docker build") from None
    inside = os.path.abspath(file_path).startswith(os.path.abspath(path) + os.sep)
    where = dict(context_dir=path,
                 dockerfile_name=os.path.relpath(file_path, path) if inside else CELL_DOCKERFILE,
                 dockerfile_in_context=inside)
    return run_build(session, _request(args, session, text, **where))


# ---------------------------------------------------------------- the result


@dataclass
class DockerfileSummary(Result):
    """`%%dockerfile --check`: the parsed Dockerfile, one row per instruction with its lines."""

    dockerfile: Dockerfile

    @property
    def instructions(self) -> list[Any]:
        return self.dockerfile.instructions

    def view(self) -> views.TableView:
        stages = {s.index: s for s in self.dockerfile.stages}
        rows = []
        for ins in self.dockerfile.instructions:
            stage = stages.get(ins.stage) if ins.stage is not None else None
            label = "" if stage is None else (stage.name or str(stage.index))
            lines = f"{ins.line_start}" if ins.line_start == ins.line_end else f"{ins.line_start}-{ins.line_end}"
            rows.append({"line": lines, "stage": label, "instruction": ins.keyword,
                         "arguments": ins.arguments if len(ins.arguments) <= 60 else ins.arguments[:59] + "…",
                         "form": "exec" if ins.exec_form is not None else ""})
        columns = [views.Column("line", "LINE"), views.Column("stage", "STAGE"),
                   views.Column("instruction", "INSTRUCTION"), views.Column("arguments", "ARGUMENTS"),
                   views.Column("form", "FORM")]
        n = len(self.dockerfile.stages)
        footer = f"{len(rows)} instructions in {n} stage{'s' if n != 1 else ''}; nothing was built (--check)"
        return views.TableView("dockerfile", columns, rows, footer=footer)



@dataclass
class BuildResult(Result):
    """What a build made: image id, tags, builder, steps with their lines, log, warnings."""

    image_id: str | None
    tags: list[str]
    builder: str
    progress: BuildProgress
    state: str = "done"
    history: History | None = None

    @property
    def ok(self) -> bool:
        return self.state == "done" and self.image_id is not None

    @property
    def steps(self) -> list[Step]:
        """The Dockerfile's steps (the builder's internal ones left out)."""
        return self.progress.dockerfile_steps

    @property
    def cached_steps(self) -> list[Step]:
        return [s for s in self.steps if s.cached]

    @property
    def warnings(self) -> list[str]:
        return self.progress.warnings

    @property
    def duration(self) -> float:
        return (self.progress.finished or time.time()) - self.progress.started

    @property
    def log(self) -> str:
        """The full log of every step (read back from disk), secrets masked."""
        return self.progress.mask(self.progress.log.full_text())

    def step_log(self, step: Step | str) -> str:
        key = step.key if isinstance(step, Step) else step
        return self.progress.mask(self.progress.log.full_text(key))

    def view(self) -> views.BuildView:
        return self.progress.view(self.state, self.tags)

    def __str__(self) -> str:
        return self._repr_mimebundle_(include=["text/plain"])["text/plain"]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle = mimebundle(self.view(), include, exclude, self.actions, self.where)  # its live widget
        if self.history is not None:  # the layers, each tied to its Dockerfile line
            # Static forms only: in a widget the build view shows the layers itself.
            layers = mimebundle(self.history.view(), include, [*(exclude or ()), WIDGET_VIEW_MIME])
            for key in ("text/plain", "text/html"):
                if key in bundle and key in layers:
                    bundle[key] += ("\n\n" if key == "text/plain" else "") + layers[key]
        return bundle


# ---------------------------------------------------------------- running a build


def run_build(session: cli.Session, request: BuildRequest) -> BuildResult:
    """Check, send, follow and report one build."""
    engine = session.engine
    builder = _choose_builder(engine, request)
    progress = BuildProgress(builder, request.dockerfile, secrets=request.secrets)
    # Lint findings show on their lines as warnings, never as errors (in-process rules only).
    progress.warnings += [str(finding) for finding in build_warnings(request.dockerfile)]
    for name in request.secrets:
        progress.warnings.append(
            f"--build-arg {name}: looks secret; a build arg used by RUN is visible in the image "
            "history (docker history). nbdocker masks it in what it shows")
    network = request.network
    if network is None and not engine.has_default_bridge():
        network = "none"
        if any(i.keyword == "RUN" for i in request.dockerfile.instructions):  # else it changes nothing
            progress.notes.append("this engine has no default bridge network: RUN steps run with --network none")
    params = _params(request, builder, network)
    packed = _context(request, builder)
    context = packed.file
    sink = _sink(session, request.quiet)
    try:
        state = _send(engine, request, builder, packed, params, progress, sink)
    except NbDockerError as err:  # the engine went away: the live view must not stay "running"
        _mark_running(progress, "failed")
        progress.apply(ErrorEvent(str(err)))
        progress.finished = time.time()
        sink.finish(BuildResult(None, [], builder, progress, "failed"))
        raise
    finally:
        context.close()
        progress.finished = progress.finished or time.time()
    tags = owned_tags(engine, progress, request.tags) if state == "done" else []
    result = BuildResult(progress.image_id, tags, builder, progress, state)
    sink.finish(result)
    if request.out:
        session.user_ns[request.out] = result
    if state == "cancelled":
        raise BuildCancelled("the engine was told to stop the build; nothing was tagged and no "
                             "container is left. The kernel is ready.")
    if state == "failed":
        raise BuildFailed(_failure_message(progress, request.context_dir) + _clear_too_deep(engine, progress),
                          result)
    if session.built is not None:
        session.built.remember(progress.image_id, request.dockerfile, request.target)
    history = image_history(engine, progress.image_id)
    if isinstance(history, History) and request.tags:
        history.image = request.tags[0]
    if isinstance(history, History) and session.built is not None:
        session.built.attach_lines(history)
    result.history = history if isinstance(history, History) else None
    return result


def owned_tags(engine: Any, progress: BuildProgress, tags: list[str]) -> list[str]:
    """The tags that name the image this build made, checked after it ended.

    Two kernels building `-t same:1` both finish "tagged same:1", but the tag names only the image
    tagged last: the other build's image is left dangling, and its result must say so.
    """
    owned = []
    for tag in tags:
        try:
            current = engine.inspect_image(tag).get("Id")
        except NbDockerError:
            current = None
        if current == progress.image_id:
            owned.append(tag)
        else:
            now = f"now names {short_id(current)}" if current else "names no image"
            progress.warnings.append(f"{tag} {now}: another build took it after this one finished")
    if tags and not owned:
        progress.warnings.append(f"this build's image {short_id(progress.image_id or '')} has no "
                                 "name left (dangling): tag it (%docker tag) or remove it (%docker rmi)")
    return owned


def _send(engine: Any, request: BuildRequest, builder: str, packed: Any, params: dict[str, Any],
          progress: BuildProgress, sink: Any) -> str:
    """Say what the engine will not, fetch what BuildKit cannot, then send and follow the build."""
    _warn_big_context(packed.warning(request.context_dir), progress, sink)
    _warn_added_dockerfile(request, builder, progress)
    bases = _base_images(request.dockerfile)
    if builder == "buildkit":
        _pull_private_bases(engine, bases, params, progress)
    return _follow(engine, packed.file, params, builder, progress, sink, request.timeout, request.stop,
                   auth=_registry_auths(bases))


def _choose_builder(engine: Any, request: BuildRequest) -> str:
    builder = request.builder
    if builder == "auto":
        builder = "buildkit" if engine.offers_buildkit() else "classic"
    elif builder == "buildkit" and not engine.offers_buildkit():
        raise UsageError("--builder buildkit: this engine does not offer BuildKit through its API; "
                         "use --builder classic", "%%dockerfile")
    if builder == "classic":
        features = buildkit_only_features(request.dockerfile)
        if features:
            line, what = features[0]
            raise DockerfileError(f"{what}; the classic builder cannot build it "
                                  "(use --builder buildkit or auto)", line)
    return builder


def _params(request: BuildRequest, builder: str, network: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "t": request.tags,
        "dockerfile": request.dockerfile_name,
        "version": "2" if builder == "buildkit" else "1",
        # docker-py's default is rm=False: failed and even successful classic builds would leave
        # their intermediate containers behind. forcerm removes them after a failure too.
        "rm": "1", "forcerm": "1",
    }
    if request.no_cache:
        params["nocache"] = "1"
    if request.pull:
        params["pull"] = "1"
    if request.build_args:
        params["buildargs"] = json.dumps(request.build_args)
    if request.labels:
        params["labels"] = json.dumps(request.labels)
    if request.target:
        params["target"] = request.target
    if network:
        params["networkmode"] = network
    if request.platform:
        params["platform"] = request.platform
    params.update(request.limits)
    return params


def _base_images(dockerfile: Dockerfile) -> dict[str, dict[str, str]]:
    """The images the Dockerfile pulls (FROM, COPY --from), each with the credentials for its
    registry (`%docker login`, else the docker config; {} for none)."""
    stages = {s.name for s in dockerfile.stages if s.name}
    images = [s.base for s in dockerfile.stages]
    images += [ins.flags["from"] for ins in dockerfile.instructions
               if ins.keyword in ("COPY", "ADD") and isinstance(ins.flags.get("from"), str)]
    found: dict[str, dict[str, str]] = {}
    for image in images:
        if image in stages or "$" in image or image.isdigit() or image == "scratch":
            continue  # another stage, an ARG the engine expands, a stage number, nothing to pull
        try:
            found[image] = auth_config_for(registry_of(parse_reference(image)))
        except NbDockerError:
            continue  # an unreadable name or config: the engine's own error says more
    return found


def _registry_auths(bases: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The X-Registry-Config the CLI sends: credentials keyed by server address."""
    return {auth.get("serveraddress") or server_address(registry_of(parse_reference(image))): auth
            for image, auth in bases.items() if auth}


def _pull_private_bases(engine: Any, bases: dict[str, dict[str, str]], params: dict[str, Any],
                        progress: BuildProgress) -> None:
    """BuildKit through the API has no session to take credentials from ("no active sessions"),
    but it prefers a local image: pull the bases that need credentials first, with them, as the
    CLI's session would. With --pull every base is pulled here and `pull` is not sent (BuildKit
    would go to the registry again, without credentials)."""
    if not any(bases.values()):
        return
    for image, auth in bases.items():
        if not params.get("pull") and (not auth or _present(engine, image)):
            continue
        pull_image(engine, image, quiet=True)
        progress.notes.append(f"pulled {image} before the build (BuildKit through the Engine API "
                              "cannot ask for registry credentials)")
    params.pop("pull", None)


def _present(engine: Any, image: str) -> bool:
    try:
        engine.inspect_image(image)
        return True
    except NbDockerError:
        return False


_WHOLE_CONTEXT = {".", "./", "/", "*", "./*", "/*"}


def _copies_whole_context(dockerfile: Dockerfile) -> int | None:
    """The line of a COPY/ADD that copies the context's top directory (`COPY . /app`), or None."""
    for ins in dockerfile.instructions:
        if ins.keyword not in ("COPY", "ADD") or "from" in ins.flags:
            continue
        words = ins.exec_form if ins.exec_form is not None else ins.arguments.split()
        if any(word in _WHOLE_CONTEXT for word in words[:-1]):
            return ins.line_start
    return None


def _warn_added_dockerfile(request: BuildRequest, builder: str, progress: BuildProgress) -> None:
    """BuildKit through the Engine API reads the Dockerfile from the context tar and applies no
    .dockerignore: an added Dockerfile cannot be kept out of `COPY .` (the CLI sends it apart,
    through a session). Say so where it happens; the classic builder is told to ignore it."""
    if builder != "buildkit" or request.context_dir is None or request.dockerfile_in_context:
        return
    line = _copies_whole_context(request.dockerfile)
    if line is not None:
        progress.warnings.append(
            f"line {line} copies the whole context: with BuildKit through the Engine API it also "
            f"copies the Dockerfile nbdocker adds to the context ({request.dockerfile_name}); "
            "use --builder classic, or copy only what the image needs")


def _warn_big_context(warning: str | None, progress: BuildProgress, sink: Any) -> None:
    """Say it before the (long) upload starts, in the live view or the terminal."""
    if warning is None:
        return
    progress.warnings.append(warning)
    if isinstance(sink, TextSink):
        print(f"warning: {warning}")
    else:
        sink.update(progress, None)


def _context(request: BuildRequest, builder: str) -> Any:
    """The context tar: the cell's Dockerfile alone, or a directory filtered by its .dockerignore."""
    text = None if request.dockerfile_in_context else request.dockerfile_text
    try:
        return pack_context(request.context_dir, request.dockerfile_name, text, builder)
    except PatternError as err:
        ignore = os.path.join(request.context_dir or "", DOCKERIGNORE)
        raise NbDockerError(f"{ignore}: {err}; the docker CLI refuses it too") from None
    except OSError as err:
        raise NbDockerError(f"cannot pack the build context {request.context_dir!r}: {err}") from err


def _follow(engine: Any, context: Any, params: dict[str, Any], builder: str,
            progress: BuildProgress, sink: Any, timeout: float | None = None, stop: Any = None,
            auth: dict[str, dict[str, str]] | None = None) -> str:
    """Send the build and fold its events until it ends; returns done / failed / cancelled."""
    decoder = decoder_for(builder, bulk=True)  # a RUN's burst of lines comes as one LogLines
    progress.committed = getattr(decoder, "committed", [])  # filled as the classic build goes
    response, messages = engine.build_stream(context, params, auth)
    stream = pumped(messages, 1 / UPDATES_PER_SECOND, "nbdocker-build-stream")
    last_render = 0.0
    last_message = time.time()
    try:
        for message in stream:  # errors of the stream are the engine's own (engine._messages)
            if message is not None:
                last_message = time.time()
                progress.apply_all(decoder.feed(message))
            now = time.time()
            if stop is not None and stop.is_set():
                raise KeyboardInterrupt  # cancelled from another thread: the interrupt's path
            if timeout is not None and now - progress.started >= timeout:  # untrusted: stop it
                engine.cancel_stream(response)
                _wait_removed(engine, getattr(decoder, "running_container", None))
                _mark_running(progress, "failed")
                progress.apply(ErrorEvent(f"over limit: the build ran longer than {timeout:g} s and was stopped"))
                return "failed"
            if now - last_render >= 1 / UPDATES_PER_SECOND:
                silent = now - last_message
                sink.update(progress, silent if silent >= SILENCE_NOTE_AFTER else None)
                last_render = now
        progress.apply_all(decoder.close())
    except KeyboardInterrupt:
        engine.cancel_stream(response)  # closing the stream is what cancels the build engine-side
        _wait_removed(engine, getattr(decoder, "running_container", None))
        _mark_running(progress, "failed")
        progress.notes.append("build cancelled by interrupt")
        return "cancelled"
    except NbDockerError:  # a broken stream, a log that cannot be written: stop the build first
        engine.cancel_stream(response)
        _wait_removed(engine, getattr(decoder, "running_container", None))
        raise
    finally:
        stream.close()
        engine.cancel_stream(response)
    if progress.image_id and progress.error is None:
        return "done"
    if progress.error is None:  # a stream that ended without an image id is a failure
        progress.apply(ErrorEvent("the build stream ended without an image id"))
    _mark_running(progress, "failed")
    return "failed"


def _wait_removed(engine: Any, container: str | None, within: float = 5.0) -> None:
    """The classic builder removes a cancelled step's container a moment after we hang up:
    wait for that, so that "no container is left" is true when we say it."""
    deadline = time.time() + within
    while container and time.time() < deadline:
        try:
            if not engine.list_containers(all=True, filters={"id": container}):
                return
        except NbDockerError:
            return
        time.sleep(0.1)


def _mark_running(progress: BuildProgress, state: str) -> None:
    for step in progress.steps.values():
        if step.state == "running":
            step.state = state
            step.completed = time.time()


def _clear_too_deep(engine: Any, progress: BuildProgress) -> str:
    """After "max depth exceeded": remove the intermediate images this build made, and say why.

    The classic builder commits an image per step and leaves them all behind when a later step
    fails (125 of them at the layer limit). Those ids come from the builder's own framing, for
    steps this build ran (not cached, not FROM's base), so they are this build's and nobody
    else's: each is removed newest first, never forced and without pruning parents, so an image
    that something else now uses stays. After other failures they stay, as the CLI leaves them:
    they are the cache that makes the next attempt fast.
    """
    if progress.error is None or "max depth exceeded" not in progress.error.message:
        return ""
    hint = (" — an image holds at most about 125 layers (the storage driver stacks at most 128, "
            "the base image's included): combine instructions (one RUN with &&, one COPY of a directory)")
    removed = 0
    for image_id in reversed(progress.committed):
        try:
            engine.remove_image(image_id, no_prune=True)
            removed += 1
        except NbDockerError:
            pass
    left = len(progress.committed) - removed
    if removed:
        hint += (f"; the {removed} intermediate image{'s' if removed != 1 else ''} this build made "
                 f"{'were' if removed != 1 else 'was'} removed")
    if left:
        hint += (f"; {left} intermediate image{'s' if left != 1 else ''} it made could not be removed "
                 "(%docker image prune -f removes dangling ones)")
    return hint


def _failure_message(progress: BuildProgress, context_dir: str | None = None) -> str:
    """The failing step's Dockerfile line(s), its exit code, the engine's message, a hint."""
    error = progress.error
    step = progress.failed_step()
    parts = []
    if step is not None and step.instruction is not None:
        parts.append(f"line {step.lines}: {progress.mask(step.instruction.original.splitlines()[0])}")
    elif step is not None:
        parts.append(progress.mask(step.name))
    if error is not None and error.exit_code is not None:
        parts.append(f"exit code {error.exit_code}")
    message = progress.mask(error.message if error else "unknown error")
    # BuildKit's wording names no instruction ('failed to compute cache key: "/app.py" not
    # found'), the classic builder's does ("COPY failed: file not found in build context …").
    instruction = step.instruction if step is not None else None
    copying = (instruction.keyword in ("COPY", "ADD") and "from" not in instruction.flags
               if instruction is not None else re.match(r"(COPY|ADD) failed", message) is not None)
    if copying and ("not found" in message or "no such file" in message.lower()):
        if context_dir is None:
            message += " — the build context holds only the Dockerfile: pass --context DIR to send files"
        else:
            message += f" — is it in {context_dir}, and not excluded by its .dockerignore?"
    if "no active sessions" in message:  # BuildKit asked for credentials it cannot get
        message += (" — the registry asks for credentials: %docker login REGISTRY, then build again "
                    "(nbdocker then pulls the base first)")
    parts.append(message)
    return " — ".join(parts)


# ---------------------------------------------------------------- live views


class TextSink:
    """Terminal IPython and tests: one printed line per step change, no re-sends."""

    SILENCE_REPEAT = 30.0  # seconds between two notes of one long silence

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}
        self._said_at: float | None = None  # the silence a note was printed for, this silence

    def update(self, progress: BuildProgress, silent: float | None) -> None:
        for step in progress.dockerfile_steps:
            if step.state != "queued" and self.seen.get(step.key) != step.state:
                self.seen[step.key] = step.state
                # Counted as printed: several changes can arrive in one update, and each line
                # should say how far the build was when that step changed.
                finished = sum(state in ("done", "cached") for state in self.seen.values())
                where = f"line {step.lines}: " if step.lines else ""
                print(f"[{finished}/{progress.total}] {step.state:8} {where}{progress.mask(step.name)}")
        # Printed lines stay: once when a silence begins, then every SILENCE_REPEAT s, not on
        # every redraw (ten a second).
        if silent is None or (self._said_at is not None and silent < self._said_at):
            self._said_at = None  # output came: a new silence will be said again
        if silent is not None and (self._said_at is None or silent >= self._said_at + self.SILENCE_REPEAT):
            self._said_at = silent
            print(f"  (no output for {silent:.0f} s)")

    def finish(self, result: BuildResult) -> None:
        self.update(result.progress, None)


class QuietSink:
    """-q: nothing while the build runs."""

    def update(self, progress: BuildProgress, silent: float | None) -> None:
        pass

    def finish(self, result: BuildResult) -> None:
        pass


class _Live:
    """A displayed, updatable build view (text/plain + escaped text/html)."""

    def __init__(self, view: views.BuildView) -> None:
        self.view = view

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": views.render_text(self.view), "text/html": views.render_html(self.view)}


class DisplaySink:
    """A notebook: one display handle updated at most UPDATES_PER_SECOND times a second.

    Each update carries only the tails of the logs, never the whole log, so a step printing
    100,000 lines costs the browser what a few hundred lines cost.
    """

    def __init__(self) -> None:
        from IPython.display import display

        self.handle = display(_Live(views.BuildView("build", "", "running", [], 0, 0, 0, 0.0)),
                              display_id=True)

    def update(self, progress: BuildProgress, silent: float | None) -> None:
        view = progress.view("running")
        if silent is not None:
            view.notes.append(f"no output for {silent:.0f} s")
        self.handle.update(_Live(view))

    def finish(self, result: BuildResult) -> None:
        # The final view is the result itself (shown as the cell's output): clear the live one.
        self.handle.update(_Live(result.view()) if result.state != "done" else _Empty())


class _Empty:
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": ""}


def _sink(session: cli.Session, quiet: bool) -> Any:
    if quiet:
        return QuietSink()
    if in_kernel():
        from nbdocker.views import widgets  # only now: anywidget is imported when a view needs it

        return widgets.build_sink(f"engine: {session.engine.describe()}") or DisplaySink()
    return TextSink()
