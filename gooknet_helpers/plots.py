"""Figures the notebooks share. Each function returns its matplotlib Figure."""

from __future__ import annotations

import matplotlib.pyplot as plt  # noqa: F401

# ---- Modules and costs (notebooks 01-02) ----

# ---- The full network (notebook 03) ----

# ---- Training (notebook 04) ----
