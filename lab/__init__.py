"""The lab: a Debian sid chroot with two Asterisk instances (the system, and a PSTN
that plays carrier, legacy hotlines and phones), plus Redis, all on loopback."""
