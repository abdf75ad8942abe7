"""What the tests and the benchmarks both need: fake model endpoints, their scripted faults,
and a clean environment for the servers they launch.

Not part of the installed package: it is imported from the repository root, which pytest
puts on sys.path and which every `bench/` script adds when run as ``python bench/x.py``.
"""
