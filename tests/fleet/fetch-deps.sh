#!/bin/sh
# fetch-deps.sh DIR - the consumers' own parsers, for tests/fleet/validate: Debian's
# python3-nova (nova.pci.whitelist, nova.pci.request) with what importing them pulls in, and
# promtool from Debian's prometheus. Fetched with `apt-get download` and unpacked with
# `dpkg -x` into DIR/root: never installed, no maintainer script runs. Done once per package
# list (DIR/.stamp); later runs are offline.
set -eu
dir=${1:?usage: fetch-deps.sh DIR}
# What `import nova.conf, nova.pci.request, nova.pci.whitelist` needs beyond python3-jsonschema
# and python3-yaml (build-aux/deps.sh installs those), found by importing until it worked.
pkgs="prometheus python3-nova python3-alembic python3-appdirs python3-castellan python3-cursive
python3-debtcollector python3-dnspython python3-dogpile.cache python3-eventlet python3-fasteners
python3-greenlet python3-iso8601 python3-keystoneauth1 python3-mako python3-munch python3-netaddr
python3-netifaces python3-openstacksdk python3-os-resource-classes python3-os-service-types
python3-oslo.cache python3-oslo.concurrency python3-oslo.config python3-oslo.context
python3-oslo.db python3-oslo.i18n python3-oslo.log python3-oslo.messaging python3-oslo.metrics
python3-oslo.policy python3-oslo.serialization python3-oslo.service python3-oslo.utils
python3-pbr python3-requestsexceptions python3-rfc3986 python3-sqlalchemy python3-stevedore
python3-tz python3-webob python3-yappi python3-wrapt python3-decorator python3-dateutil python3-requests
python3-urllib3 python3-charset-normalizer python3-idna python3-certifi python3-markupsafe
python3-jsonpatch python3-json-pointer python3-jmespath python3-oslo.versionedobjects"
want=$(printf '%s\n' $pkgs | sort | tr '\n' ' ')
if [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$want" ] && [ -x "$dir/root/usr/bin/promtool" ]; then
    exit 0
fi
echo "fleet: fetching the consumers' parsers (apt-get download, dpkg -x) into $dir" >&2
rm -rf "$dir/root" "$dir/debs.new"
mkdir -p "$dir/debs.new" "$dir/root"
# apt-get download writes into the current directory; as root it warns that _apt cannot
# write there, which is harmless.
(cd "$dir/debs.new" && apt-get download $pkgs >/dev/null 2>&1) ||
    (cd "$dir/debs.new" && apt-get download $pkgs)
for deb in "$dir"/debs.new/*.deb; do
    dpkg -x "$deb" "$dir/root"
done
rm -rf "$dir/debs"
mv "$dir/debs.new" "$dir/debs"
printf '%s' "$want" > "$dir/.stamp"
