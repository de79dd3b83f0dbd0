"""34 provinces uploading at once on localhost, three rounds each (with mistakes, a total that is not the sum,
correct): p50/p95 time from upload to verdict (the POST until the result page has arrived) and peak memory of
the server and its check workers. Target: p95 under 2 s on 2 cores. A real ``libstats serve`` in a subprocess.

Run: python benchmarks/bench_upload.py
(the code of another commit: git archive COMMIT | tar -x -C DIR; PYTHONPATH=DIR python benchmarks/bench_upload.py)
"""

import datetime as dt
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2 as httpx

from libstats.collection.collect import init_collection, issue_links
from libstats.model.form import build_form
from libstats.forms.samples import sample_values
from libstats.forms.template import TemplateOptions, write_template

YEAR, ROUNDS = 2025, 3


def returns(col, out: Path) -> dict[str, list[Path]]:
    """Three returns per province: a negative figure; a total that is not the sum; correct."""
    form = build_form(YEAR)
    made = {}
    for p in col.provinces:
        good = sample_values(form, p)
        bad = dict(good, **{next(k for k in good if k.endswith("_xa_n")): -5})
        total = next(k for k in good if k.endswith("_tong_n") and isinstance(good[k], int))
        wrong = dict(good, **{total: good[total] + 1})
        made[p.code] = [write_template(form, out / f"{p.code}-{i}.xlsx", TemplateOptions(province=p, values=v))
                        for i, v in enumerate((bad, wrong, good))]
    return made


def rss_mb(pid: int) -> dict[int, float]:
    """Resident memory (MB) of a process and each of its descendants, by pid."""
    found, todo = {}, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as fh:
                found[p] = next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) / 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(x) for x in fh.read().split()]
        except (OSError, StopIteration):
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a live process has used so far."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def province_rounds(base: str, link: str, files: list[Path], times: list[float], errors: list[str]):
    with httpx.Client(base_url=base, timeout=60) as client:
        for path in files:
            token = re.search(r'name="csrf" value="([^"]+)"', client.get(link).text)[1]
            start = time.perf_counter()
            r = client.post(f"{link}/gui", data={"csrf": token}, files={"tep": (path.name, path.read_bytes())},
                            follow_redirects=True)
            times.append(time.perf_counter() - start)
            if r.status_code != 200 or "Kết quả kiểm tra" not in r.text:
                errors.append(f"{link[:12]}… {r.status_code}")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        col = init_collection(Path(tmp) / "col", YEAR, dt.date(YEAR + 1, 3, 15))
        links = {code: link for code, _, link in issue_links(col)}
        made = returns(col, Path(tmp))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = subprocess.Popen([sys.executable, "-m", "libstats.cli", "serve", str(col.root), "--port", str(port)],
                                  stdout=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(base + "/", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        peak, stop = {"tree": 0.0, "server": 0.0, "worker": 0.0}, threading.Event()

        def sample():
            while not stop.is_set():
                found = rss_mb(server.pid)
                peak["tree"] = max(peak["tree"], sum(found.values()))
                peak["server"] = max(peak["server"], found.get(server.pid, 0.0))
                peak["worker"] = max([peak["worker"], *(v for p, v in found.items() if p != server.pid)])
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        sampler.start()
        times, errors = [], []
        start = time.perf_counter()
        clients = [threading.Thread(target=province_rounds, args=(base, links[code], made[code], times, errors))
                   for code in made]
        for t in clients:
            t.start()
        for t in clients:
            t.join()
        wall = time.perf_counter() - start
        stop.set()
        sampler.join()
        cpu_server = cpu_seconds(server.pid)
        cpu_workers = sum(cpu_seconds(p) for p in rss_mb(server.pid) if p != server.pid)
        server.terminate()
        server.wait()
        files = col.register.files()
        times.sort()
        q = statistics.quantiles(times, n=100)
        print(f"{len(made)} provinces x {ROUNDS} rounds = {len(times)} uploads in {wall:.1f} s on "
              f"{os.cpu_count()} cores; {len(errors)} failed; {len(files)} recorded")
        print(f"upload to verdict: p50 {q[49]:.2f} s, p95 {q[94]:.2f} s, max {times[-1]:.2f} s")
        print(f"peak memory (resident, sampled every 20 ms): server and its check workers together "
              f"{peak['tree']:.0f} MB; the server {peak['server']:.0f} MB; largest worker {peak['worker']:.0f} MB")
        print(f"CPU time (less swayed by the load than the times above): the server {cpu_server:.1f} s, its check "
              f"workers {cpu_workers:.1f} s")
        print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        verdicts = {}
        for f in files:
            verdicts[f.verdict] = verdicts.get(f.verdict, 0) + 1
        print("verdicts:", verdicts)


if __name__ == "__main__":
    main()
