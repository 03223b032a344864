/*
 * raw_send - puts hand-made Ethernet frames on an interface, for the netns
 * tests that check how the gateway treats VLAN-tagged and oversized frames.
 *
 *   raw_send IFACE vlan VID LEN     802.1Q-tagged broadcast frame of LEN bytes
 *   raw_send IFACE plain LEN        untagged broadcast frame of LEN bytes
 *
 * Frames use the IEEE local experimental ethertype 0x88b5 so no stack on the
 * way reacts to them.
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static unsigned char frame[65536];
	struct sockaddr_ll sll = { .sll_family = AF_PACKET };
	const unsigned char src[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
	size_t len, off = 12;
	int fd, vid = 0, tagged;

	if (argc < 4 || (strcmp(argv[2], "vlan") != 0 && strcmp(argv[2], "plain") != 0)) {
		fprintf(stderr, "usage: raw_send IFACE vlan VID LEN | raw_send IFACE plain LEN\n");
		return 2;
	}
	tagged = strcmp(argv[2], "vlan") == 0;
	if (tagged && argc < 5)
		return 2;
	if (tagged)
		vid = atoi(argv[3]);
	len = (size_t)atol(argv[tagged ? 4 : 3]);
	if (len < 60 || len > sizeof(frame)) {
		fprintf(stderr, "raw_send: LEN must be 60..%zu\n", sizeof(frame));
		return 2;
	}
	memset(frame, 0xff, 6);
	memcpy(frame + 6, src, 6);
	if (tagged) {
		frame[off++] = 0x81;
		frame[off++] = 0x00;
		frame[off++] = (unsigned char)((vid >> 8) & 0x0f);
		frame[off++] = (unsigned char)vid;
	}
	frame[off++] = 0x88;
	frame[off++] = 0xb5;
	for (size_t i = off; i < len; i++)
		frame[i] = (unsigned char)i;

	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (sll.sll_ifindex == 0) {
		perror("raw_send: interface");
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) {
		perror("raw_send: socket");
		return 1;
	}
	sll.sll_halen = 6;
	memset(sll.sll_addr, 0xff, 6);
	if (sendto(fd, frame, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len) {
		perror("raw_send: sendto");
		return 1;
	}
	close(fd);
	return 0;
}
