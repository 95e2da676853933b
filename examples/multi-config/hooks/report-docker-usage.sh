# Job-completed hook of linux-x64-large: how much Docker left on the runner, in the job's log under
# "Complete runner". The runner runs it with `bash -e`; it must not fail the job, hence `|| true`.
echo "docker usage after job $GITHUB_JOB of $GITHUB_REPOSITORY:"
docker system df || true
