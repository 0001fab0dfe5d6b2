"""What every part of the project shares, in pure Python: column names, table schemas, warehouse
paths and the project's exception. Imported by the Spark jobs and by the Airflow plugin alike."""
