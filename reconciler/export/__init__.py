"""Export: live objects -> manifest files (`exporter.py`), named and pinned by `naming.py`, secret values
as `${env:}` references (`secret_refs.py`), with what the schemas say (`schema.py`) and stable YAML text
(`dump.py`)."""
