"""Benchmarks of the assistant as it runs (docs/BENCHMARKS.md). Each module
runs alone (``python -m bench.<name>``), prints its figures and writes them
as JSON under build/bench/. Nothing here asserts a timing."""
