"""MovieLens recommendations: the code the Spark jobs in ``spark_jobs/`` run, and the plugin shares.

Subpackages, in import order (each imports only the ones before it):

- :mod:`movierec.core`: column names, schemas, warehouse paths, the error type (pure Python);
- :mod:`movierec.io`: Spark sessions, Hadoop filesystems, the warehouse, drops' sources;
- :mod:`movierec.data`: layouts, parsing, splitting, the curated tables;
- :mod:`movierec.models`: the models' parameters, fitting and persistence;
- :mod:`movierec.serving`: the model's scoring tables, predicted ratings, top-N lists;
- :mod:`movierec.evaluation`: metrics, scoring a test set, the gates, the search.

Shipped to Spark as ``build/movierec.zip`` (``--py-files``); installed with ``pip install -e .``.
"""

from __future__ import annotations

__version__ = "0.1.0"
