"""A real Prefect server on 127.0.0.1, `cleancorpus serve` with an interval schedule, one
triggered run: the new version lands in the output directory. Every process started here is
stopped in ``finally``, whatever happens, and each wait is bounded."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cleancorpus import api

BIN = Path(sys.executable).parent
TRIGGER = r"""
import sys, time
from prefect.deployments import run_deployment
from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

name, deadline = sys.argv[1], time.monotonic() + float(sys.argv[2])
with get_client(sync_client=True) as client:
    while True:  # `serve` registers the deployment a few seconds after it starts
        try:
            client.read_deployment_by_name(name)
            break
        except ObjectNotFound:
            if time.monotonic() > deadline:
                sys.exit("deployment never appeared")
            time.sleep(1)
run = run_deployment(name, timeout=max(1.0, deadline - time.monotonic()))
print(run.state.type.value)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"prefect server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if json.loads(r.read()) is True:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {seconds:g} s")


def _stop(proc: subprocess.Popen) -> None:
    """The process and everything it started (its own session), politely, then by force."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
            return
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


@contextlib.contextmanager
def served_deployment(raw: Path, out: Path, tmp_path: Path, name: str):
    """A real Prefect server on a free port and `cleancorpus serve RAW --out OUT` registered as
    ``clean-corpus/NAME``; yields ``trigger(seconds)``, which runs the deployment once and
    returns (the trigger process, the serve log so far). Every process is stopped on exit."""
    port = _free_port()
    env = {**os.environ,
           "PREFECT_HOME": str(tmp_path / "prefect-home"),  # its own database, deleted with tmp_path
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    logs = {n: open(tmp_path / f"{n}.log", "wb") for n in ("server", "serve")}
    procs: list[subprocess.Popen] = []

    def trigger(seconds: float) -> tuple[subprocess.CompletedProcess, str]:
        done = subprocess.run([sys.executable, "-c", TRIGGER, f"clean-corpus/{name}", str(seconds)], env=env,
                              capture_output=True, text=True, timeout=seconds + 30)
        return done, (tmp_path / "serve.log").read_text(errors="replace")

    try:
        procs.append(subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=logs["server"], stderr=subprocess.STDOUT, start_new_session=True))
        _wait_healthy(f"http://127.0.0.1:{port}/api/health", procs[0], 90)
        procs.append(subprocess.Popen(
            [str(BIN / "cleancorpus"), "serve", str(raw), "--out", str(out), "--interval", "3600", "--name", name],
            env=env, stdout=logs["serve"], stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path))
        yield trigger
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for fh in logs.values():
            fh.close()
    assert all(p.poll() is not None for p in procs)


def test_served_deployment_runs_against_a_real_server(seeds, tmp_path):
    out = tmp_path / "clean"
    with served_deployment(seeds, out, tmp_path, "test") as trigger:
        done, served = trigger(120)
        assert done.returncode == 0, done.stderr[-3000:] + served[-3000:]
        assert done.stdout.strip().endswith("COMPLETED"), done.stdout + served[-3000:]
        v = api.load(out)
        want = api.plan(seeds, out)
        assert v.manifest["config"] == json.loads(json.dumps(want.config.to_dict()))
        assert v.manifest["inputs"] == {"files": len(want.inputs), "sha256": api.inputs_digest(want.inputs, want.id_key),
                                        "id_key": want.id_key.fingerprint}
        assert v.id == want.version_id
