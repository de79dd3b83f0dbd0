"""Checking returns: one file to one `CheckResult` with its verdict and findings (`check`, `result`), and many
files in isolated worker processes with memory and time limits, so a hostile file costs one file (`batch`)."""
