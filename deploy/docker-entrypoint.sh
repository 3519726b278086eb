#!/bin/sh
# Runs the service named by $SERVICE; arguments go to it (e.g. `migrate`).
# exec keeps node as PID 1 so SIGTERM reaches Nest's shutdown hooks.
set -eu
if [ -z "${SERVICE:-}" ]; then
  echo "cinode: set SERVICE (one of: $(ls /app/dist/services 2>/dev/null | tr '\n' ' '))" >&2
  exit 64
fi
exec node "/app/dist/services/${SERVICE}/src/main.js" "$@"
