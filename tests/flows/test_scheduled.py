"""A scheduled corpus that grows: a real Prefect server, `cleancorpus serve` with an interval
schedule, files dropped into raw/ between runs of the served deployment. Each run makes a new
version whose work (documents recomputed from scratch, in the flow's log and in the manifest's
summary) is the new files' documents, not the corpus. Processes are stopped in ``finally``."""

import os
import re
import subprocess
import sys

from cleancorpus import api
from test_server import BIN, TRIGGER, _free_port, _stop, _wait_healthy

NEW = {
    "a.txt": "Rivers carry boats under the old bridges of the town, and the ferry crosses twice a day.",
    "b.txt": "The library opens at nine; its reading room holds maps of the valley and the coast.",
    "c.txt": "A storm closed the mountain road for a week, and the village waited for the snowplough.",
}


def test_scheduled_runs_recompute_only_the_new_files(seeds, tmp_path):
    port = _free_port()
    env = {**os.environ,
           "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
    out = tmp_path / "clean"
    logs = {n: open(tmp_path / f"{n}.log", "wb") for n in ("server", "serve")}
    procs: list[subprocess.Popen] = []

    def run_once() -> dict:
        done = subprocess.run([sys.executable, "-c", TRIGGER, "clean-corpus/nightly", "240"], env=env,
                              capture_output=True, text=True, timeout=270)
        served = (tmp_path / "serve.log").read_text(errors="replace")
        assert done.returncode == 0 and done.stdout.strip().endswith("COMPLETED"), (
            done.stdout + done.stderr[-3000:] + served[-3000:])
        v = api.load(out)
        assert v.id == api.plan(seeds, out).version_id
        return v.manifest["work"]

    try:
        procs.append(subprocess.Popen(
            [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=logs["server"], stderr=subprocess.STDOUT, start_new_session=True))
        _wait_healthy(f"http://127.0.0.1:{port}/api/health", procs[0], 90)
        procs.append(subprocess.Popen(
            [str(BIN / "cleancorpus"), "serve", str(seeds), "--out", str(out), "--interval", "3600",
             "--name", "nightly"],
            env=env, stdout=logs["serve"], stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path))
        first = run_once()
        assert first["documents_from_scratch"] == 5
        (seeds / "a.txt").write_text(NEW["a.txt"], "utf-8")
        (seeds / "b.txt").write_text(NEW["b.txt"], "utf-8")
        second = run_once()
        assert second["documents_from_scratch"] == 2
        assert second["stages"]["unicode"] == {"recomputed": 2, "reused": 5}
        (seeds / "c.txt").write_text(NEW["c.txt"], "utf-8")
        third = run_once()
        assert third["documents_from_scratch"] == 1
        assert third["stages"]["unicode"] == {"recomputed": 1, "reused": 7}
        served = (tmp_path / "serve.log").read_text(errors="replace")
        logged = [int(n) for n in re.findall(r"documents recomputed: (\d+) of \d+ from scratch", served)]
        assert logged == [5, 2, 1], served[-3000:]
    finally:
        for proc in reversed(procs):
            _stop(proc)
        for fh in logs.values():
            fh.close()
    assert all(p.poll() is not None for p in procs)
