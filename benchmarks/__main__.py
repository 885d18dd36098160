"""`python -m benchmarks [NAME ...] [--quick] [--runs DIR]`: see `benchmarks.runner`."""

from benchmarks.runner import main

main()
