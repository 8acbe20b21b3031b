#!/usr/bin/env bash
# sticky-comment.sh PR MARKER BODY_FILE: create the pull request comment that holds MARKER, or update
# it in place when one exists, so that each project and environment has exactly one plan comment.
# Needs `gh` (preinstalled on GitHub's runners) with GH_TOKEN, and GITHUB_REPOSITORY.
set -euo pipefail
pr=$1
marker=$2
body=$3
repo=${GITHUB_REPOSITORY:?GITHUB_REPOSITORY is not set}
limit=65000  # GitHub refuses comments over 65,536 characters
if (( $(wc -c < "$body") > limit )); then
  cut=$(mktemp)
  head -c "$limit" "$body" > "$cut"
  printf '\n\n... (cut: the whole plan is in the job summary)\n' >> "$cut"
  body=$cut
fi
# The marker as a jq string literal, so that no character of the project's name can break the filter.
quoted=$(python3 -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$marker")
id=$(gh api --paginate "repos/$repo/issues/$pr/comments?per_page=100" \
       --jq "[.[] | select(.body | contains($quoted)) | .id] | first // empty" | head -n 1)
if [[ -n $id ]]; then
  gh api --method PATCH "repos/$repo/issues/comments/$id" -F "body=@$body" --silent
  echo "updated comment $id on pull request #$pr"
else
  gh api --method POST "repos/$repo/issues/$pr/comments" -F "body=@$body" --silent
  echo "created a comment on pull request #$pr"
fi
