"""Shared code of the MovieLens recommendation jobs.

Shipped to Spark with ``--py-files build/movierec.zip``; every job in
``spark_jobs/`` is a standalone script that imports from here.
"""

from __future__ import annotations

__version__ = "0.1.0"
