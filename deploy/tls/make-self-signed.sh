#!/bin/sh
# A self-signed certificate for trying the deployment on one host. In
# production put the real chain and key here (fullchain.pem, privkey.pem) or
# point TLS_DIR at the folder that holds them. The key is never committed.
set -eu
dir=$(dirname "$0")
name=${1:-localhost}
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=$name" \
  -addext "subjectAltName=DNS:$name,IP:127.0.0.1" \
  -keyout "$dir/privkey.pem" -out "$dir/fullchain.pem" 2>/dev/null
echo "wrote $dir/fullchain.pem and $dir/privkey.pem for $name (self-signed, 30 days)"
