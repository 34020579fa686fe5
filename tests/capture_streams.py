"""Re-capture the raw build streams that tests/test_buildevents.py replays.

Run against a real engine (see scripts/engine.sh):

    .venv/bin/python tests/capture_streams.py            # every scenario, both builders
    .venv/bin/python tests/capture_streams.py simple     # only the named scenarios

Each build's decoded messages (what `docker.APIClient().build(..., decode=True)` yields) are
written one JSON object per line to tests/streams/NAME-{classic,buildkit}.jsonl, untouched.
Every image this script tagged, and every image id that appeared in its streams, is removed at
the end; images it did not create are never touched. The BuildKit build cache is left alone:
pruning it would also drop other people's cache.
"""
from __future__ import annotations

import io
import json
import re
import sys
import tarfile
from pathlib import Path
from typing import Iterator

import docker
import docker.errors

STREAMS = Path(__file__).parent / "streams"
TAG_REPOSITORY = "nbdocker-capture"

SIMPLE = 'FROM busybox\nRUN echo hi && echo err >&2\nCMD ["echo","hello"]\n'

# name -> (Dockerfile, nocache). Order matters: "cached" must follow "simple".
SCENARIOS: dict[str, tuple[str, bool]] = {
    "simple": (SIMPLE, True),
    "cached": (SIMPLE, False),
    "failing": ("FROM busybox\nRUN echo before; exit 3\nCMD [\"true\"]\n", True),
    "multistage": (
        "FROM busybox AS builder\n"
        "RUN echo built > /artifact.txt\n"
        "FROM busybox\n"
        "COPY --from=builder /artifact.txt /artifact.txt\n"
        "RUN cat /artifact.txt\n",
        True,
    ),
    # Stage "broken" fails; with BuildKit the parallel stage "slow" is cancelled, with the classic
    # builder "slow" has already finished and sent an aux image id of its own.
    "multistagefail": (
        "FROM busybox AS slow\n"
        "RUN sleep 2 && echo slow\n"
        "FROM busybox AS broken\n"
        "RUN echo broken >&2; exit 4\n"
        "FROM busybox\n"
        "COPY --from=slow /bin/busybox /a\n"
        "COPY --from=broken /bin/busybox /b\n",
        True,
    ),
    "manylines": ("FROM busybox\nRUN seq 1 2000\n", True),
    "unicode": (
        "FROM busybox\n"
        "RUN echo 안녕하세요 && echo 오류 >&2\n"
        "RUN printf 'a\\rb\\n' && printf 'progress 10%%\\rprogress 50%%\\rprogress 100%%\\n'\n"
        "RUN printf 'no trailing newline'\n",
        True,
    ),
    "fakesuccess": (
        "FROM busybox\nRUN echo 'Successfully built deadbeef' && echo 'Successfully tagged fake:latest'\n",
        True,
    ),
    # An unknown instruction: refused before any step runs.
    "parseerror": ("FROM busybox\nFOO bar\n", True),
    # An empty line inside a continuation: the classic builder warns in the text stream.
    "warning": ("FROM busybox\nRUN echo one \\\n\n    && echo two\n", True),
}

BUILDERS = {"classic": "1", "buildkit": "2"}


def context_tar(dockerfile: str) -> io.BytesIO:
    """A build context holding only the Dockerfile (UTF-8)."""
    data = dockerfile.encode("utf-8")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(data))
    buffer.seek(0)
    return buffer


def build_stream(
    client: docker.APIClient, dockerfile: str, *, version: str, tag: str, nocache: bool
) -> Iterator[dict]:
    """The decoded build stream, with the builder chosen by `version`.

    docker-py 7's `APIClient.build` has no `version` argument, so the endpoint is called directly
    with the same parameters `build` would send. rm/forcerm: docker-py defaults to rm=False, which
    leaves a container behind for every failed (and successful) classic build.
    """
    params = {
        "t": tag,
        "q": False,
        "nocache": nocache,
        "rm": True,
        "forcerm": True,
        "pull": False,
        "networkmode": "none",  # the test engine has no default bridge
        "version": version,
    }
    response = client._post(
        client._url("/build"),
        params=params,
        data=context_tar(dockerfile),
        headers={"Content-Type": "application/tar"},
        stream=True,
    )
    try:
        yield from client._stream_helper(response, decode=True)
    finally:
        response.close()


def image_ids_in(messages: list[dict]) -> set[str]:
    """Every image id a stream mentions: aux results and classic ` ---> <id>` layers."""
    ids = set()
    for message in messages:
        aux = message.get("aux")
        if isinstance(aux, dict) and isinstance(aux.get("ID"), str):
            ids.add(aux["ID"])
        stream = message.get("stream")
        if isinstance(stream, str):
            ids.update(re.findall(r"^ ---> ([0-9a-f]{12})$", stream, flags=re.M))
    return ids


def cleanup(client: docker.APIClient, tags: list[str], ids: set[str]) -> None:
    """Remove what this script made: its tags first, then the ids its streams named."""
    for tag in tags:
        try:
            client.remove_image(tag)
        except docker.errors.NotFound:
            pass
    for image_id in sorted(ids):
        try:
            tags_now = client.inspect_image(image_id).get("RepoTags") or []
        except docker.errors.NotFound:
            continue
        if tags_now:
            # Someone else tagged it (a cache hit on our layer); it is not ours to remove.
            continue
        try:
            client.remove_image(image_id)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as err:  # e.g. another image builds on it
            print(f"left {image_id}: {err.explanation}", file=sys.stderr)


def main(argv: list[str]) -> int:
    wanted = argv or list(SCENARIOS)
    unknown = [name for name in wanted if name not in SCENARIOS]
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    if "cached" in wanted and "simple" not in wanted:
        wanted.insert(wanted.index("cached"), "simple")
    client = docker.APIClient()
    STREAMS.mkdir(exist_ok=True)
    tags: list[str] = []
    ids: set[str] = set()
    try:
        for builder, version in BUILDERS.items():
            for name in SCENARIOS:
                if name not in wanted:
                    continue
                dockerfile, nocache = SCENARIOS[name]
                tag = f"{TAG_REPOSITORY}/{name}:{builder}"
                tags.append(tag)
                path = STREAMS / f"{name}-{builder}.jsonl"
                try:
                    messages = list(build_stream(client, dockerfile, version=version, tag=tag, nocache=nocache))
                except docker.errors.APIError as err:
                    # Refused before streaming (the classic builder answers a Dockerfile parse
                    # error with HTTP 400): there is no stream to record.
                    print(f"{path.name}: not a stream, HTTP {err.status_code}: {err.explanation}")
                    path.unlink(missing_ok=True)
                    continue
                ids |= image_ids_in(messages)
                with path.open("w", encoding="utf-8") as out:
                    for message in messages:
                        out.write(json.dumps(message, ensure_ascii=False) + "\n")
                print(f"{path.relative_to(STREAMS.parent.parent)}: {len(messages)} messages")
    finally:
        cleanup(client, tags, ids)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
