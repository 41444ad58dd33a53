"""One need against the full major catalogue over HTTP: latency of ``POST /api/v1/match/majors``.

    python -m benchmarks.scoring.http [--requests 300]

Starts the real server (uvicorn, one process) on a fresh SQLite file with the catalogue and the
demo loaded, then sends needs one at a time from one client and prints p50/p95/p99.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

from app.db.engine import make_engine, make_session_factory
from app.db.models import Role
from app.services.auth import create_api_key, ensure_actor
from app.services.demo import seed_demo
from benchmarks.runs.scale import migrate

NEEDS = [
    "云计算运维工程师：负责云平台部署、虚拟化与容器运维",
    "大数据开发实习生，Hadoop、Spark、数据清洗与可视化",
    "物联网设备安装调试，传感器与嵌入式开发",
    "电子商务运营专员，店铺运营、直播带货、数据分析",
    "护士，临床护理、病人照护与健康宣教",
    "数控机床操作工，数控编程与机械加工",
    "会计助理：账务处理、纳税申报、财务软件",
    "物流仓储管理员，仓储规划、配送调度",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    out = Path("benchmarks/out")
    out.mkdir(parents=True, exist_ok=True)
    db = out / "http.db"
    db.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    migrate(url)
    with make_session_factory(make_engine(url)).begin() as session:
        seed_demo(session)
        key = create_api_key(session, ensure_actor(session, Role.ADMIN))
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)],
                              env={**os.environ, "CHANJIAO_DATABASE_URL": url},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            for _ in range(100):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            for need in NEEDS:  # warm the catalogue index
                client.post("/api/v1/match/majors", json={"text": need})
            latencies = []
            for i in range(args.requests):
                started = time.perf_counter()
                response = client.post("/api/v1/match/majors", json={"text": NEEDS[i % len(NEEDS)], "top_k": 10})
                latencies.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
        q = statistics.quantiles(latencies, n=100)
        print(f"POST /api/v1/match/majors over HTTP, {len(latencies)} requests, catalogue of all majors:")
        print(f"p50 {q[49]:.1f} ms   p95 {q[94]:.1f} ms   p99 {q[98]:.1f} ms   max {max(latencies):.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
