#!/bin/sh
# tests/tls/make-certs.sh DIR - the certificates of the TLS tests, made
# fresh in DIR by the openssl command (P-256 keys, as the bench uses):
#   ca.pem ca.key              the CA the tests trust (--ca-file)
#   server.pem server.key      127.0.0.1, ::1 and localhost (SAN IP + DNS)
#   expired.pem expired.key    the same names, valid only in the past
#   wrong.pem wrong.key        another name only (wrong.example)
#   other-ca.pem               a CA nobody trusts, and
#   untrusted.pem untrusted.key  the right names signed by it
#   client-ca.pem client-ca.key  the CA the server trusts for clients
#   client.pem client.key      a client certificate it signed
# Prints nothing on success; exit 1 with openssl's words otherwise.
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
log=make-certs.log
: >"$log"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>>"$log"; }

# ca NAME: a self-signed CA NAME.pem with NAME.key
ca() {
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days 30 -subj "/CN=libgoose test $1" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        -out "$1.pem" 2>>"$log"
}

# leaf NAME CA SAN EXT [openssl x509 date options]: NAME.pem signed by CA
leaf() {
    name=$1 ca=$2 san=$3 eku=$4
    shift 4
    key "$name.key"
    openssl req -new -key "$name.key" -subj "/CN=$name" -out "$name.csr" 2>>"$log"
    printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=%s\n' \
        "$san" "$eku" >"$name.ext"
    openssl x509 -req -in "$name.csr" -CA "$ca.pem" -CAkey "$ca.key" -CAcreateserial \
        -sha256 -extfile "$name.ext" -out "$name.pem" "$@" 2>>"$log"
    rm -f "$name.csr" "$name.ext"
}

names=IP:127.0.0.1,IP:::1,DNS:localhost
ca ca
ca other-ca
ca client-ca
leaf server ca "$names" serverAuth -days 30
leaf wrong ca DNS:wrong.example serverAuth -days 30
leaf untrusted other-ca "$names" serverAuth -days 30
leaf client client-ca DNS:client.example clientAuth -days 30
# valid from 2000 to 2001: openssl x509 has no -not_before before 3.4, so
# the CA signs it through `openssl ca` with explicit dates
key expired.key
openssl req -new -key expired.key -subj /CN=expired -out expired.csr 2>>"$log"
mkdir -p ca-db
: >ca-db/index.txt
cat >ca-db/ca.cnf <<CNF
[ca]
default_ca = test
[test]
database = ca-db/index.txt
new_certs_dir = ca-db
serial = ca-db/serial
default_md = sha256
policy = any
copy_extensions = none
x509_extensions = ext
[any]
commonName = supplied
[ext]
subjectAltName = $names
basicConstraints = CA:FALSE
extendedKeyUsage = serverAuth
CNF
echo 01 >ca-db/serial
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr \
    -startdate 20000101000000Z -enddate 20010101000000Z -out expired.pem 2>>"$log" >&2
rm -rf expired.csr ca-db ./*.srl
rm -f "$log"
