"""Hypothesis profiles: CI replays the same examples every run, local runs keep exploring."""

from __future__ import annotations

import os

from hypothesis import settings

# CI is a gate: a run that passes must pass again on the same commit. New examples are found
# by developers' runs (which explore freshly each time) and kept in the local example database.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
