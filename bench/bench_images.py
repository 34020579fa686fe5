"""`%docker images` in a real kernel against `docker images`, on the same engine, in one run.

    .venv/bin/python bench/bench_images.py [--runs 11] [--images 100] [--tags 20]

Makes IMAGES small images (imported from a one-file tar) with TAGS tags each (2,000 rows by
default), then alternates: the docker CLI (`docker images REPO`, a process, output read from a
pipe) and `%docker images REPO` executed in an IPython kernel (ipykernel through jupyter_client,
display mode `auto`: text, HTML and the widget), timed from the execute request to the kernel's
idle status. Also reported: the bytes the kernel sent on IOPub for one listing. Every image the
benchmark made is removed. Writes bench/results-images.md.
"""
from __future__ import annotations

import argparse
import io
import json
import queue
import shutil
import statistics
import subprocess
import tarfile
import time
import uuid
from pathlib import Path

import docker
from jupyter_client.manager import KernelManager

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results-images.md"
TARGET_RATIO = 1.0


def make_images(api: docker.APIClient, repo: str, images: int, tags: int) -> list[str]:
    """IMAGES distinct tiny images under `repo`, TAGS tags each; their ids."""
    ids = []
    for n in range(images):
        data = io.BytesIO()
        with tarfile.open(fileobj=data, mode="w") as tar:
            body = f"{repo} {n}\n".encode()
            info = tarfile.TarInfo("f")
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        answer = api.import_image_from_data(data.getvalue(), repository=repo, tag=f"i{n}-t0")
        image_id = json.loads(answer.strip().splitlines()[-1])["status"]
        ids.append(image_id)
        for t in range(1, tags):
            api.tag(image_id, repo, f"i{n}-t{t}")
    return ids


def remove_images(api: docker.APIClient, repo: str) -> None:
    for image in api.images(name=repo):
        api.remove_image(image["Id"], force=True)


def cli_run(cli: str, repo: str) -> float:
    started = time.perf_counter()
    subprocess.run([cli, "images", repo], check=True, capture_output=True)
    return time.perf_counter() - started


class Kernel:
    """One ipykernel with nbdocker loaded; runs a cell and measures until idle."""

    def __init__(self) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel()
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.run("%load_ext nbdocker")

    def run(self, code: str) -> tuple[float, int]:
        """(seconds until idle, bytes published on IOPub) for one cell."""
        while True:  # drain what earlier cells left
            try:
                self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                break
        started = time.perf_counter()
        msg_id = self.client.execute(code, store_history=False)
        sent = 0
        while True:
            msg = self.client.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] in ("display_data", "execute_result", "comm_open", "comm_msg", "stream"):
                sent += len(json.dumps(msg["content"]))
            if msg["msg_type"] == "error":
                raise RuntimeError("\n".join(msg["content"]["traceback"]))
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return time.perf_counter() - started, sent

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--tags", type=int, default=20)
    args = parser.parse_args(argv)
    api = docker.APIClient(version="auto", timeout=120, **docker.utils.kwargs_from_env())
    cli = shutil.which("docker") or "docker"
    repo = f"nbdbench-images-{uuid.uuid4().hex[:6]}"
    rows = args.images * args.tags
    print(f"making {args.images} images x {args.tags} tags = {rows} rows under {repo} …", flush=True)
    make_images(api, repo, args.images, args.tags)
    kernel = Kernel()
    try:
        cell = f"%docker images {repo}"
        kernel.run(cell)  # warm: the first command imports the SDK and the widget module
        cli_run(cli, repo)
        cli_times, our_times, sizes = [], [], []
        for _ in range(args.runs):
            cli_times.append(cli_run(cli, repo))
            seconds, sent = kernel.run(cell)
            our_times.append(seconds)
            sizes.append(sent)
    finally:
        kernel.close()
        remove_images(api, repo)
        api.close()
    cli_median, our_median = statistics.median(cli_times), statistics.median(our_times)
    per_run = statistics.median(o / c for o, c in zip(our_times, cli_times))
    ratio = our_median / cli_median
    lines = [
        "# `%docker images` in a kernel against `docker images`",
        "",
        f"{rows} rows ({args.images} images × {args.tags} tags), medians of {args.runs} alternating runs, "
        f"engine {api_version_note()}.",
        "",
        "| | docker CLI | nbdocker in a kernel | ratio (of medians) [median of per-run ratios] |",
        "|---|---|---|---|",
        f"| `images REPO` | {cli_median * 1000:.0f} ms | {our_median * 1000:.0f} ms | "
        f"{ratio:.2f} [{per_run:.2f}] |",
        "",
        f"IOPub bytes for one listing (display data and widget messages): {statistics.median(sizes) / 1e6:.2f} MB.",
        f"Target: ratio ≤ {TARGET_RATIO:.1f}.",
    ]
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ratio <= TARGET_RATIO else 1


def api_version_note() -> str:
    try:
        info = docker.APIClient(version="auto", **docker.utils.kwargs_from_env()).version()
        return f"{info.get('Version')} (API {info.get('ApiVersion')})"
    except docker.errors.DockerException:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
