"""bench/locustfile.py - Locust's side of `make bench` (bench/run.sh).

The same load test as bench/loadtest.c: one task, GET /, no wait.
BENCH_LOCUST_USER picks the user class (one class per run, so Locust
does not mix them):

  http  HttpUser (python-requests; the default)
  fast  FastHttpUser (geventhttpclient)

run.sh runs each one headless in a single process pinned to CPU 1:

  BENCH_LOCUST_USER=http taskset -c 1 locust -f bench/locustfile.py --headless \
      -u 50 -r 50 -t 10s --host http://127.0.0.1:PORT --csv bench/out/locust-http --only-summary
"""
import os

from locust import HttpUser, constant, task

KIND = os.environ.get("BENCH_LOCUST_USER", "http")

if KIND == "fast":
    from locust.contrib.fasthttp import FastHttpUser

    class BenchFastHttpUser(FastHttpUser):
        wait_time = constant(0)

        @task
        def get_root(self):
            self.client.get("/")

elif KIND == "http":

    class BenchHttpUser(HttpUser):
        wait_time = constant(0)

        @task
        def get_root(self):
            self.client.get("/")

else:
    raise SystemExit(f'bench/locustfile.py: BENCH_LOCUST_USER is "{KIND}", not http or fast')
