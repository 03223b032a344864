/* lanparty-relay --pcap (src/relay/pcap.h): the file's layout, its mode,
 * the size limit and the datagrams it skips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pcap.h"

static int g_warnings;

static void count_log(void *user, enum lp_log_level level, const char *fmt, va_list ap)
{
	(void)user;
	(void)fmt;
	(void)ap;
	if (level == LP_LOG_WARN)
		g_warnings++;
}

static const struct lp_logger g_log = { count_log, NULL, LP_LOG_DEBUG };

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void datagram(uint8_t *dg, size_t len, uint8_t fill)
{
	memset(dg, fill, len);
	dg[0] = 0x11; /* the overlay header: not written */
}

static void test_records_and_limit(void **state)
{
	char path[] = "/tmp/test_relay_pcap.XXXXXX";
	struct relay_pcap *pc = NULL;
	uint8_t dg[64], file[1024];
	uint32_t w[6];
	struct stat st;
	size_t n;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	chmod(path, 0644);
	/* room for the header and two records of 60 bytes, not three */
	assert_int_equal(relay_pcap_open(path, 24 + 2 * (16 + 60) + 10, &g_log, &pc), 0);
	assert_non_null(pc);
	g_warnings = 0;
	datagram(dg, sizeof(dg), 0xa1);
	relay_pcap_datagram(pc, dg, sizeof(dg));
	relay_pcap_datagram(pc, dg, 4); /* an overlay header alone: nothing to record */
	datagram(dg, sizeof(dg), 0xa2);
	relay_pcap_datagram(pc, dg, sizeof(dg));
	assert_int_equal(g_warnings, 0);
	datagram(dg, sizeof(dg), 0xa3);
	relay_pcap_datagram(pc, dg, sizeof(dg)); /* over the limit: capture stops */
	relay_pcap_datagram(pc, dg, sizeof(dg));
	assert_int_equal(g_warnings, 1); /* logged once */
	relay_pcap_datagram(NULL, dg, sizeof(dg));
	relay_pcap_close(pc);

	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	n = slurp(path, file, sizeof(file));
	assert_int_equal(n, 24 + 2 * (16 + 60));
	memcpy(w, file, sizeof(w));
	assert_int_equal(w[0], 0xa1b2c3d4u);
	assert_int_equal(w[1], 2u | (4u << 16));
	assert_int_equal(w[4], 65535u);
	assert_int_equal(w[5], 1u);
	for (int i = 0; i < 2; i++) {
		const uint8_t *rec = file + 24 + (size_t)i * (16 + 60);
		uint32_t rh[4];

		memcpy(rh, rec, sizeof(rh));
		assert_int_equal(rh[2], 60);
		assert_int_equal(rh[3], 60);
		assert_true(rh[0] > 1700000000u); /* wall-clock seconds */
		for (size_t j = 0; j < 60; j++)
			assert_int_equal(rec[16 + j], i == 0 ? 0xa1 : 0xa2);
	}
	unlink(path);
}

static void test_unwritable(void **state)
{
	struct relay_pcap *pc = (struct relay_pcap *)&pc;

	(void)state;
	assert_int_equal(relay_pcap_open("/nonexistent-dir/x.pcap", 1 << 20, &g_log, &pc),
	                 LP_ERR_IO);
	assert_null(pc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_and_limit),
		cmocka_unit_test(test_unwritable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
