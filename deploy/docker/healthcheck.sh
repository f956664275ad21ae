#!/bin/sh
# Docker HEALTHCHECK of the Nimbus image: exits 0 when /v1/health/ready answers 200 (every model
# loaded), 1 otherwise. It asks the server on loopback, on NIM_SERVER_PORT (default 8000), and
# speaks TLS when NIM_SSL_MODE does: certificate checks are skipped because it talks to its own
# process; under MTLS it presents the server's own certificate and key as its client identity,
# which works when one CA signed both (set NIMBUS_HEALTHCHECK_CERT/_KEY to use another pair).
port="${NIM_SERVER_PORT:-8000}"
mode=$(printf '%s' "${NIM_SSL_MODE:-DISABLED}" | tr '[:lower:]' '[:upper:]')
case "$mode" in
    TLS)
        set -- --insecure "https://127.0.0.1:$port/v1/health/ready" ;;
    MTLS)
        set -- --insecure --cert "${NIMBUS_HEALTHCHECK_CERT:-$NIM_SSL_CERTS_PATH}" \
            --key "${NIMBUS_HEALTHCHECK_KEY:-$NIM_SSL_KEY_PATH}" "https://127.0.0.1:$port/v1/health/ready" ;;
    *)
        set -- "http://127.0.0.1:$port/v1/health/ready" ;;
esac
curl --fail --silent --show-error --max-time 4 --output /dev/null "$@" || exit 1
