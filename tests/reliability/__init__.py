"""Reliability harness (issue 9): parser robustness, secrets, and the other §7 targets."""
