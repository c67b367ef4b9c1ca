"""A scheduled corpus that grows: a real Prefect server, `cleancorpus serve` with an interval
schedule, files dropped into raw/ between runs of the served deployment. Each run makes a new
version whose work (documents recomputed from scratch, in the flow's log and in the manifest's
summary) is the new files' documents, not the corpus. Processes are stopped in ``finally``."""

import re

from cleancorpus import api
from test_server import served_deployment

NEW = {
    "a.txt": "Rivers carry boats under the old bridges of the town, and the ferry crosses twice a day.",
    "b.txt": "The library opens at nine; its reading room holds maps of the valley and the coast.",
    "c.txt": "A storm closed the mountain road for a week, and the village waited for the snowplough.",
}


def test_scheduled_runs_recompute_only_the_new_files(seeds, tmp_path):
    out = tmp_path / "clean"
    with served_deployment(seeds, out, tmp_path, "nightly") as trigger:

        def run_once() -> dict:
            done, served = trigger(240)
            assert done.returncode == 0 and done.stdout.strip().endswith("COMPLETED"), (
                done.stdout + done.stderr[-3000:] + served[-3000:])
            v = api.load(out)
            assert v.id == api.plan(seeds, out).version_id
            return v.manifest["work"]

        first = run_once()
        assert first["documents_from_scratch"] == 5
        (seeds / "a.txt").write_text(NEW["a.txt"], "utf-8")
        (seeds / "b.txt").write_text(NEW["b.txt"], "utf-8")
        second = run_once()
        assert second["documents_from_scratch"] == 2
        assert second["stages"]["unicode"] == {"recomputed": 2, "reused": 5, "why_recomputed": {"input": 2}}
        (seeds / "c.txt").write_text(NEW["c.txt"], "utf-8")
        third = run_once()
        assert third["documents_from_scratch"] == 1
        assert third["stages"]["unicode"] == {"recomputed": 1, "reused": 7, "why_recomputed": {"input": 1}}
        served = (tmp_path / "serve.log").read_text(errors="replace")
        logged = [int(n) for n in re.findall(r"documents recomputed: (\d+) of \d+ from scratch", served)]
        assert logged == [5, 2, 1], served[-3000:]
