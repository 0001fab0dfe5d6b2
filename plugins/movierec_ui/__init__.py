"""The movierec Airflow plugin's code: warehouse reader, queries, FastAPI app, page, extra links.

Loaded by ``plugins/movierec_plugin.py`` (Airflow puts the plugins folder on
``sys.path``); ``plugins/.airflowignore`` keeps Airflow from importing these
modules a second time as stand-alone plugin files.
"""
