#!/usr/bin/env bash
# Starts the Salesforce emulator, migrates, loads the demo tenant (its first sync runs
# then), then runs the django-q2 worker and the web server until Ctrl-C stops them all.
# Secrets are printed here for the person running the demo, never written to var/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var
WEB_PORT=${WEB_PORT:-8000}
EMULATOR_PORT=${EMULATOR_PORT:-8765}
EMULATOR_URL="https://127.0.0.1:${EMULATOR_PORT}"

# Local secrets, made once and kept out of the repository (.env is ignored by git).
if [ ! -f .env ]; then
  umask 077
  {
    echo "DJANGO_SECRET_KEY=$($PY -c 'import secrets; print(secrets.token_urlsafe(50))')"
    echo "EMULATOR_ACCESS_TOKEN=$($PY -c 'import secrets; print(secrets.token_hex(32))')"
  } > .env
  echo "Wrote .env with local secrets."
fi
local_secret() {  # the value of $1 in .env, made and saved the first time
  local value
  value=$(grep "^$1=" .env | cut -d= -f2- || true)
  if [ -z "$value" ]; then
    value=$($PY -c 'import secrets; print(secrets.token_hex(32))')
    echo "$1=$value" >> .env
  fi
  echo "$value"
}
EMULATOR_ACCESS_TOKEN=$(local_secret EMULATOR_ACCESS_TOKEN)
EMULATOR_CLIENT_SECRET=$(local_secret EMULATOR_CLIENT_SECRET)

# The portal's processes talk to the emulator as to a real org: its certificate, its
# OAuth endpoints and a Connected App registered on it for "Connect Salesforce".
export SALESFORCE_CA_FILE="$PWD/var/emulator-ca.pem"
export SALESFORCE_LOGIN_URL="$EMULATOR_URL"
export SALESFORCE_CLIENT_ID="portal-demo"
export SALESFORCE_CLIENT_SECRET="$EMULATOR_CLIENT_SECRET"

pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

$PY -m salesforce_emulator --host 127.0.0.1 --port "$EMULATOR_PORT" \
  --data var/emulator-data.json --access-token="$EMULATOR_ACCESS_TOKEN" \
  --ca-file "$SALESFORCE_CA_FILE" --org-name "Acme Corp (emulated)" \
  --client-id "$SALESFORCE_CLIENT_ID" --client-secret="$SALESFORCE_CLIENT_SECRET" \
  --callback-url "http://127.0.0.1:${WEB_PORT}/salesforce/callback/" \
  --callback-url "http://localhost:${WEB_PORT}/salesforce/callback/" > var/emulator.log 2>&1 &
emulator_pid=$!
pids+=("$emulator_pid")
ready=""
for _ in $(seq 1 100); do
  kill -0 "$emulator_pid" 2>/dev/null || break
  if [ -f "$SALESFORCE_CA_FILE" ] && $PY - "$EMULATOR_URL" "$SALESFORCE_CA_FILE" <<'PYCHECK' 2>/dev/null
import sys, requests
requests.get(sys.argv[1] + "/services/data/", verify=sys.argv[2], timeout=1)
PYCHECK
  then ready=1; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "The Salesforce emulator did not start (var/emulator.log says):" >&2
  tail -n 5 var/emulator.log >&2
  echo "Another program may hold port ${EMULATOR_PORT}; set EMULATOR_PORT=... to use another." >&2
  exit 1
fi

$PY manage.py migrate --no-input -v 0
$PY manage.py demo_load --salesforce-url "$EMULATOR_URL" --salesforce-token="$EMULATOR_ACCESS_TOKEN" \
  --portal-url "http://127.0.0.1:${WEB_PORT}"

$PY manage.py sync_worker > var/worker.log 2>&1 &
pids+=($!)
$PY manage.py runserver "127.0.0.1:${WEB_PORT}" --noreload > var/web.log 2>&1 &
pids+=($!)
sleep 1

cat <<TXT

The portal is running (Ctrl-C stops everything):
  Tenant pages:          http://127.0.0.1:${WEB_PORT}/
  Admin for ops:         http://127.0.0.1:${WEB_PORT}/admin/
  Partner API docs:      http://127.0.0.1:${WEB_PORT}/api/docs/
  OpenAPI schema:        http://127.0.0.1:${WEB_PORT}/api/schema/
  Salesforce emulator:   ${EMULATOR_URL}/   (certificate: var/emulator-ca.pem)
  A Salesforce record:   ${EMULATOR_URL}/<Id>   (where "open in Salesforce" leads)
  Logs:                  var/web.log, var/worker.log, var/emulator.log
  Local secrets:         var/demo-secrets.json, .env (readable by you only)

TXT
$PY manage.py demo_webhook --portal-url "http://127.0.0.1:${WEB_PORT}"
wait -n "${pids[@]}"
echo "A process stopped; see the logs in var/."
