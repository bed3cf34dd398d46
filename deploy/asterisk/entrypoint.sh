#!/bin/sh
# The instance tree is rendered by the controller image into a shared volume.
set -e
dir=${HOTLINE_ASTERISK_INSTANCE_DIR:-/var/lib/hotline/sut}
chown -R asterisk:asterisk "$dir"
exec /usr/sbin/asterisk -f -U asterisk -G asterisk -C "$dir/etc/asterisk.conf"
