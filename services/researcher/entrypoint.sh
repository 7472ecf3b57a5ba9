#!/bin/sh
# The researcher image's entrypoint. On Lambda (the default) it hands over to the base
# image's entrypoint, which runs the handler named by CMD (handler.handler, i.e.
# services/researcher/handler.py). With ALEX_HTTP_PORT set (the opt-in App Runner service)
# it serves the HTTP app on that port instead: python -m alex.http.research_cloud (serve()).
set -e
if [ -n "${ALEX_HTTP_PORT:-}" ]; then
  cd "${LAMBDA_TASK_ROOT:-/var/task}"
  exec python3 -m alex.http.research_cloud
fi
exec /lambda-entrypoint.sh "$@"
