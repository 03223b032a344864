/*
 * pcap_grep - reads a classic pcap file (as lanparty-relay --pcap writes
 * it), checks its structure and counts the records that contain TEXT.
 *
 *   pcap_grep FILE TEXT    prints "records=N ethernet=E matches=M";
 *                          exit 0 when the file is well formed, 1 if not
 *
 * Well formed: the magic a1b2c3d4 in host order, version 2.4, link type 1
 * (Ethernet), and records whose lengths add up to the file's end exactly.
 * "ethernet" counts records of at least an Ethernet header (14 bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int has(const unsigned char *p, size_t n, const char *text)
{
	size_t t = strlen(text);

	for (size_t i = 0; t <= n && i <= n - t; i++)
		if (memcmp(p + i, text, t) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	static unsigned char rec[65536];
	uint32_t hdr[6], rh[4];
	unsigned long records = 0, eth = 0, matches = 0;
	FILE *f;
	size_t got;

	if (argc != 3) {
		fprintf(stderr, "usage: pcap_grep FILE TEXT\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (f == NULL || fread(hdr, sizeof(hdr), 1, f) != 1) {
		perror("pcap_grep: header");
		return 1;
	}
	if (hdr[0] != 0xa1b2c3d4u || hdr[1] != (2u | (4u << 16)) || hdr[5] != 1u) {
		fprintf(stderr, "pcap_grep: not an Ethernet pcap 2.4 file\n");
		return 1;
	}
	while ((got = fread(rh, 1, sizeof(rh), f)) == sizeof(rh)) {
		if (rh[2] != rh[3] || rh[2] > sizeof(rec) || rh[2] > hdr[4] ||
		    fread(rec, 1, rh[2], f) != rh[2]) {
			fprintf(stderr, "pcap_grep: record %lu is damaged\n", records + 1);
			return 1;
		}
		records++;
		eth += rh[2] >= 14;
		matches += (unsigned long)has(rec, rh[2], argv[2]);
	}
	if (got != 0) {
		fprintf(stderr, "pcap_grep: the file ends inside a record header\n");
		return 1;
	}
	printf("records=%lu ethernet=%lu matches=%lu\n", records, eth, matches);
	fclose(f);
	return 0;
}
