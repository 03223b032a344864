#!/bin/sh
# udhcpc event script for the netns tests: configure only the address, never
# the host's resolv.conf or routes outside the namespace.
case "$1" in
bound | renew)
	ip addr flush dev "$interface" scope global
	ip addr add "$ip/${mask:-24}" dev "$interface"
	echo "udhcpc: $interface got $ip"
	;;
deconfig)
	ip addr flush dev "$interface" scope global
	;;
esac
exit 0
