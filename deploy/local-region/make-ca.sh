#!/usr/bin/env bash
# The lab's own small CA (openssl), so that every Stratus instance serves HTTPS and every host agent pins it.
# Usage: make-ca.sh FOLDER ADDRESS...   (IP addresses the instances are reached at; localhost is always in)
# Writes in FOLDER (kept if there already, so a restart keeps the pin):
#   ca.pem          the root: what `stratus run --ca-cert` trusts
#   issuing.pem     an issuing CA signed by the root: it signs the server certificate, and its pin is the one the
#                   host agents get (--control-plane-cert-hash). Two levels, because a TLS server never sends a
#                   self-signed root (.NET leaves it out of the chain): a host could not see a root to match its pin.
#   server.pem      the server certificate for ADDRESS..., followed by issuing.pem (the chain the server sends)
#   server.key      its private key (readable by this user only)
#   pin             sha256:HEX of the issuing CA's SubjectPublicKeyInfo
set -euo pipefail
folder=$1
shift
mkdir -p "$folder"
cd "$folder"
[ -s pin ] && [ -s server.pem ] && [ -s server.key ] && [ -s ca.pem ] && exit 0
umask 077
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

ec ca.key
openssl req -x509 -new -key ca.key -sha256 -days 3650 -subj "/CN=Stratus lab root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem

ec issuing.key
openssl req -new -key issuing.key -subj "/CN=Stratus lab issuing CA" -out issuing.csr
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' > issuing.ext
openssl x509 -req -in issuing.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 -sha256 -extfile issuing.ext -out issuing.pem 2>/dev/null

names="DNS:localhost,IP:127.0.0.1"
for address in "$@"; do
  case ",$names," in *",IP:$address,"*) ;; *) names+=",IP:$address" ;; esac
done
ec server.key
openssl req -new -key server.key -subj "/CN=Stratus lab instance" -out server.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=%s\n' "$names" > server.ext
openssl x509 -req -in server.csr -CA issuing.pem -CAkey issuing.key -CAcreateserial -days 825 -sha256 -extfile server.ext -out server.leaf.pem 2>/dev/null
cat server.leaf.pem issuing.pem > server.pem
rm -f ./*.csr ./*.ext ./*.srl server.leaf.pem
chmod 644 ca.pem issuing.pem server.pem

echo "sha256:$(openssl x509 -in issuing.pem -pubkey -noout | openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1)" > pin
chmod 644 pin
