"""Manifests: YAML files with positions -> schema and cross checks -> DesiredState.

Public API: `load`, `read_manifests`, `read_every_environment`, `dump_desired`, `desired_from_dict`.
"""

from __future__ import annotations

from reconciler.manifest.loader import LoadResult, load, problems_of, read_every_environment, read_manifests
from reconciler.manifest.serialize import desired_from_dict, dump_desired

__all__ = ["LoadResult", "desired_from_dict", "dump_desired", "load", "problems_of", "read_every_environment",
           "read_manifests"]
