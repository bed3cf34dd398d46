#!/bin/sh
# The instance tree is rendered by the controller image into a shared volume.
set -e
dir=${HOTLINE_ASTERISK_INSTANCE_DIR:-/var/lib/hotline/sut}
# Asterisk's files are its group's alone, as the rendered configuration is (its log names callers and
# accounts): Asterisk sets no mode of its own, so its umask decides, and older logs are tightened too.
umask 027
mkdir -p "$dir/log"
chown -R asterisk:asterisk "$dir"
chmod 750 "$dir/log"
find "$dir/log" -type f -exec chmod 640 {} +
exec /usr/sbin/asterisk -f -U asterisk -G asterisk -C "$dir/etc/asterisk.conf"
