"""Planning: desired + live state -> a Plan (pure, no I/O). `plan.py` holds the types; `planner.py` decides,
with `forms.py` (manifest form <-> API form, field changes, update bodies) and `versions.py` (versions and
canary rules); `diff.py` compares; `whole.py` builds the canonical form both sides are compared in, with `defaults.py`
filling in the API's defaults; `writes.py` builds each write as an Operation; `pruning.py` applies the deletion
rules; `identity.py` matches by name; `targets.py` narrows a plan to `--target`; `ordering.py` derives the
apply graph."""
