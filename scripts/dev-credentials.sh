#!/usr/bin/env bash
# Makes throwaway credentials for local development and tests into DIR (default run/dev):
#   sim-cert.pem / sim-key.pem      TLS certificate of the simulator (localhost, 127.0.0.1)
#   apns-key.p8                     APNs provider-token key (EC P-256, PKCS#8)
#   fcm-service-account.json        FCM service account (RSA) whose token_uri is the simulator
# Existing files are kept. These are not secrets of anything real.
set -euo pipefail
dir=${1:-run/dev}
sim_url=${PUSHGW_SIM_URL:-https://127.0.0.1:8443}
mkdir -p "$dir"
cd "$dir"
if [ ! -s sim-cert.pem ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout sim-key.pem -out sim-cert.pem -days 3650 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
fi
if [ ! -s apns-key.p8 ]; then
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out apns-key.p8 2>/dev/null
fi
if [ ! -s fcm-service-account.json ]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out fcm-key.pem 2>/dev/null
  key_json=$(awk '{printf "%s\\n", $0}' fcm-key.pem)
  cat > fcm-service-account.json <<JSON
{
  "type": "service_account",
  "project_id": "pushgw-dev",
  "private_key_id": "dev-key-1",
  "private_key": "${key_json}",
  "client_email": "pushgw-dev@pushgw-dev.iam.gserviceaccount.com",
  "client_id": "100000000000000000001",
  "token_uri": "${sim_url}/token"
}
JSON
  rm -f fcm-key.pem
fi
chmod 600 sim-key.pem apns-key.p8 fcm-service-account.json
