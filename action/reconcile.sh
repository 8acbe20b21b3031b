#!/usr/bin/env bash
# The GitHub Action's one step (see action.yml): validate, plan or apply, with every exit code kept.
#
# plan: `--detailed-exitcode` answers 0 (no changes), 2 (changes) or 1 (error). 0 and 2 are a
# successful plan (the step passes, outputs say which); anything else fails the step, after the pull
# request comment says so. The plan is posted as ONE comment per project and environment, found
# again by a hidden marker and updated in place on every push to the pull request.
# apply: its exit code is the step's. validate: likewise; on a pull request from a fork, where no
# secret is available, `auto` validates with --allow-unset-env instead of planning.
#
# Inputs come as environment variables (RECONCILER_*), the GitHub context as GITHUB_* and EVENT_*.
set -uo pipefail  # not -e: exit codes are read and handed on, never lost to an early exit

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command=${RECONCILER_COMMAND:-auto}
read -r -a paths <<< "${RECONCILER_MANIFESTS:-manifests}"
read -r -a extra <<< "${RECONCILER_ARGS:-}"
environment=${RECONCILER_ENVIRONMENT:-}
project=${RECONCILER_PROJECT:-${RECONCILER_MANIFESTS:-manifests}}
env_args=()
if [[ -n $environment ]]; then env_args=(--env "$environment"); fi
event=${GITHUB_EVENT_NAME:-}
fork=false
if [[ $event == pull_request && -n ${EVENT_HEAD_REPO:-} && ${EVENT_HEAD_REPO} != "${GITHUB_REPOSITORY:-}" ]]; then
  fork=true
fi
tmp=${RUNNER_TEMP:-$(mktemp -d)}

output() { if [[ -n ${GITHUB_OUTPUT:-} ]]; then echo "$1=$2" >> "$GITHUB_OUTPUT"; fi; }
summary() { if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then cat >> "$GITHUB_STEP_SUMMARY"; else cat > /dev/null; fi; }

if [[ $command == auto ]]; then
  case $event in
    pull_request) if [[ $fork == true ]]; then command=validate; else command=plan; fi ;;
    push | workflow_dispatch | schedule) command=apply ;;
    *) echo "::error::reconciler action: command 'auto' does not know what to do on '$event'; set command"
       exit 1 ;;
  esac
fi

case $command in
  validate)
    allow=()
    if [[ $fork == true || ${RECONCILER_ALLOW_UNSET_ENV:-false} == true ]]; then allow=(--allow-unset-env); fi
    reconciler validate "${allow[@]}" "${env_args[@]}" -- "${paths[@]}"
    code=$?
    output exitcode "$code"
    exit "$code" ;;

  apply)
    reconciler apply --auto-approve "${env_args[@]}" "${extra[@]}" -- "${paths[@]}"
    code=$?
    output exitcode "$code"
    exit "$code" ;;

  plan)
    plan=$tmp/reconciler-plan-$$.md
    errors=$tmp/reconciler-plan-$$.err
    reconciler plan --format markdown --detailed-exitcode "${env_args[@]}" "${extra[@]}" -- "${paths[@]}" \
      > "$plan" 2> "$errors"
    code=$?
    cat "$errors" >&2
    output exitcode "$code"
    output plan "$plan"
    case $code in
      0) output changes false ;;
      2) output changes true ;;
      *) output changes unknown ;;
    esac
    title="reconciler plan: $project${environment:+ ($environment)}"
    # The marker has the form the markdown plan itself ends with (`>` written `&gt;`, so that no name
    # ends the comment early): when the project input is the Project's metadata.name, both name the
    # same comment.
    marked_project=${project//>/&gt;} marked_environment=${environment:--}
    marker="<!-- reconciler-plan project=$marked_project environment=${marked_environment//>/&gt;} -->"
    body=$tmp/reconciler-comment-$$.md
    {
      echo "$marker"
      echo "### $title"
      echo
      if [[ $code == 0 || $code == 2 ]]; then
        cat "$plan"
      else
        echo "**The plan failed** (exit status $code):"
        echo
        echo '```'
        tail -n 50 "$errors"
        echo '```'
      fi
      echo
      echo "<sub>${GITHUB_SHA:+commit ${GITHUB_SHA:0:12}, }updated by the reconciler action</sub>"
    } > "$body"
    summary < "$body"
    if [[ ${RECONCILER_COMMENT:-true} == true && -n ${EVENT_PR_NUMBER:-} ]]; then
      # A failed comment (a read-only token) is a warning: the plan itself is what decides the step.
      bash "$here/sticky-comment.sh" "$EVENT_PR_NUMBER" "$marker" "$body" \
        || echo "::warning::reconciler action: could not post the plan as a pull request comment"
    fi
    if [[ $code == 0 || $code == 2 ]]; then exit 0; fi
    exit "$code" ;;

  *)
    echo "::error::reconciler action: unknown command '$command' (auto, validate, plan or apply)"
    exit 1 ;;
esac
