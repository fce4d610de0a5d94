"""Benchmarks: each prints throughput and latency percentiles for one named workload."""
