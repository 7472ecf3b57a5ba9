#!/bin/sh
# The researcher image's entrypoint. On Lambda (the default) it hands over to the base
# image's entrypoint, which runs the handler named by CMD (alex.research.cloud.handler).
# With ALEX_HTTP_PORT set (the opt-in App Runner service) it serves the HTTP app on that
# port instead: python -m alex.research.cloud (see its serve()).
set -e
if [ -n "${ALEX_HTTP_PORT:-}" ]; then
  cd "${LAMBDA_TASK_ROOT:-/var/task}"
  exec python3 -m alex.research.cloud
fi
exec /lambda-entrypoint.sh "$@"
