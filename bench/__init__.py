"""Measurement runners (not tests): `make load` (bench/load.py with locust) and `make bench`
(bench/webhook_latency.py). They start the real services with the tests' harness
(tests/harness/) and write their figures under results/."""
