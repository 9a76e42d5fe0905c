"""Times one move of an MLflow server's data both ways, in one invocation, from the same source:
`cairn import mlflow <url>` into a fresh Cairn (embedded PGlite, local artifact folder), against
mlflow-export-import (`export-experiments`, then `import-experiments`) into a fresh `mlflow server`
(SQLite, proxied artifacts), the MLflow-to-MLflow move users make today. Prints both wall times and
their ratio, and writes them to bench/results/migrate-<start time>.json.

The source is a `mlflow server` on SQLite: runs (params, tags, one artifact each) created through its
REST API, the metric points written straight into its tables (bench/seed_mlflow_metrics.py: its own
log-batch would take hours at the issue's size).

usage (the compat venv holds mlflow 3.18.0; the tool is installed beside it, as the compat tests do):
  venv="$(bash scripts/venv.sh)"; npm run build
  "$venv/bin/python" bench/migrate.py [--runs 1000] [--points 100000] [--artifact-kib 64] [--cairn-only]
Each step's peak RSS (wait4) and the load average are recorded too; the projection to the issue's size
(1,000 x 100,000) is a linear extrapolation from the size run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "test" / "compat"))
import reference_servers  # noqa: E402  (mlflow_server, pip_target: the compat suite's own helpers)

from mlflow import MlflowClient  # noqa: E402


def seed(url: str, db: str, runs: int, points: int, artifact_kib: int, tmp: pathlib.Path) -> None:
    c = MlflowClient(url)
    exp = c.create_experiment("migrate-bench", tags={"bench": "migrate"})
    blob = tmp / "blob.bin"
    blob.write_bytes(random.randbytes(artifact_kib * 1024))
    tsv = tmp / "points.tsv"
    with open(tsv, "w") as out:
        for i in range(runs):
            r = c.create_run(exp, run_name=f"run-{i}", tags={"i": str(i)})
            rid = r.info.run_id
            c.log_param(rid, "lr", 0.001 * (i + 1))
            c.log_artifact(rid, str(blob), "data")
            c.set_terminated(rid)
            for s in range(points):
                out.write(f"{rid}\tloss\t{s}\t{1_700_000_000_000 + s}\t{1.0 / (s + 1)!r}\n")
    with open(tsv) as f:
        subprocess.run([sys.executable, str(REPO / "bench" / "seed_mlflow_metrics.py"), db], stdin=f, check=True)


def timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Runs one step to completion; returns its wall time and its peak resident set (MiB, from wait4)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(proc.pid, 0)
        took = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(args[:4])} failed:\n{stdout[-3000:]}\n{stderr[-3000:]}")
    print(stdout.strip().splitlines()[-1] if stdout.strip() else "", file=sys.stderr)
    return took, round(usage.ru_maxrss / 1024)  # ru_maxrss is KiB on Linux


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--points", type=int, default=100_000)
    p.add_argument("--artifact-kib", type=int, default=64)
    p.add_argument("--cairn-only", action="store_true", help="time Cairn's import alone (no ratio: for a before/after of Cairn's side)")
    a = p.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    tool = reference_servers.pip_target(REPO / "test" / "compat" / "export-import-requirements.txt")
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="cairn-bench-migrate-"))
    try:
        src_dir = tmp / "src"
        src_dir.mkdir()
        with reference_servers.mlflow_server(workdir=src_dir) as src_url:
            print(f"seeding {a.runs} runs x {a.points} points ...", file=sys.stderr)
            seed(src_url, f"sqlite:///{src_dir / 'mlflow.db'}", a.runs, a.points, a.artifact_kib, tmp)

            cairn_dir = tmp / "cairn"
            cairn_dir.mkdir()
            load_before = os.getloadavg()
            cairn_s, cairn_rss = timed(["node", "bin/cairn.js", "import", "mlflow", src_url, "--backend-store-uri", f"pglite://{cairn_dir / 'db'}",
                             "--data-dir", str(cairn_dir), "--artifacts-destination", str(cairn_dir / "artifacts")])

            load_after = os.getloadavg()
            if a.cairn_only:
                return report(a, started, cairn_s, cairn_rss, None, [round(x, 2) for x in load_before + load_after])
            env = {k: v for k, v in os.environ.items() if not k.startswith("MLFLOW_")} | {"MLFLOW_DISABLE_TELEMETRY": "true", "PYTHONPATH": str(tool)}
            with reference_servers.mlflow_server(prefix="cairn-bench-migrate-dst-") as dst_url:
                out = tmp / "exported"
                export_s, export_rss = timed([sys.executable, "-m", "mlflow_export_import.bulk.export_experiments", "--experiments", "migrate-bench", "--output-dir", str(out)], env | {"MLFLOW_TRACKING_URI": src_url})
                import_s, import_rss = timed([sys.executable, "-m", "mlflow_export_import.bulk.import_experiments", "--input-dir", str(out)], env | {"MLFLOW_TRACKING_URI": dst_url})
                load_after = os.getloadavg()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    report(a, started, cairn_s, cairn_rss, (export_s, export_rss, import_s, import_rss), [round(x, 2) for x in load_before + load_after])


def report(a: argparse.Namespace, started: datetime.datetime, cairn_s: float, cairn_rss: int, tool: tuple[float, int, float, int] | None, load: list[float]) -> None:
    points = a.runs * a.points
    # The projection to the size assumes time grows linearly in points (both tools page every
    # series' history at a fixed page size, and the per-run work - one artifact, a few calls - is small
    # beside 100,000 points); it is an extrapolation from this run, not a measurement.
    full = 1000 * 100_000
    result = {
        "started": started.isoformat(), "runs": a.runs, "points_per_run": a.points, "artifact_kib": a.artifact_kib,
        "cairn_import_s": round(cairn_s, 1), "cairn_points_per_s": round(points / cairn_s), "cairn_s_per_run": round(cairn_s / a.runs, 2),
        "cairn_peak_rss_mib": cairn_rss, "cairn_projected_1000x100000_h": round(cairn_s * full / points / 3600, 1),
        # 1-, 5- and 15-minute load averages before Cairn's import and after the last timed step
        "load_avg_before_after": load,
    }
    if tool:
        export_s, export_rss, import_s, import_rss = tool
        tool_s = export_s + import_s
        result |= {
            "mlflow_export_import_s": round(tool_s, 1), "mlflow_export_s": round(export_s, 1), "mlflow_import_s": round(import_s, 1),
            "ratio": round(tool_s / cairn_s, 1), "mlflow_export_import_points_per_s": round(points / tool_s),
            "mlflow_export_import_s_per_run": round(tool_s / a.runs, 2), "mlflow_export_peak_rss_mib": export_rss, "mlflow_import_peak_rss_mib": import_rss,
            "mlflow_export_import_projected_1000x100000_h": round(tool_s * full / points / 3600, 1),
        }
    print(json.dumps(result, indent=2))
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"migrate-{started.strftime('%Y-%m-%dT%H-%M-%S')}{'' if tool else '-cairn-only'}.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
