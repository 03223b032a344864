/* test_obs.c - log sink formats, drop names, frame events and the client's status lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lp_obs.h"

/* ---- sink ---------------------------------------------------------------- */

static char *slurp(FILE *f)
{
	static char buf[16384];
	size_t n;

	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	return buf;
}

/* Seconds since 1970 of a UTC civil time (days_from_civil; strptime and
 * timegm do not exist on Windows, where this test runs too). */
static time_t utc_seconds(int y, int mo, int d, int h, int mi, int s)
{
	long era, yoe, doy, doe, days;

	y -= mo <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	days = era * 146097 + doe - 719468;
	return (time_t)(days * 86400 + h * 3600 + mi * 60 + s);
}

/* Checks "YYYY-MM-DDTHH:MM:SS.mmmZ" at ts and that it lies between lo and hi
 * (wall-clock seconds). */
static void assert_timestamp(const char *ts, time_t lo, time_t hi)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
	int y, mo, d, h, mi, s;
	time_t t;
	size_t i;

	for (i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd')
			assert_true(ts[i] >= '0' && ts[i] <= '9');
		else
			assert_int_equal(ts[i], shape[i]);
	}
	assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s), 6);
	t = utc_seconds(y, mo, d, h, mi, s);
	assert_true(t >= lo && t <= hi);
}

static void test_sink_text_exact(void **state)
{
	struct lp_obs_sink s;
	FILE *f = tmpfile();
	time_t lo, hi;
	const char *l1;
	char *out;

	(void)state;
	assert_non_null(f);
	lp_obs_sink_init(&s, "lanparty-relay", LP_LOG_INFO, LP_OBS_FORMAT_TEXT, f);
	lo = time(NULL);
	lp_log(&s.logger, LP_LOG_INFO, "room %s has %d peers", "ROOM1", 3);
	lp_log(&s.logger, LP_LOG_ERROR, "bad");
	hi = time(NULL);
	out = slurp(f);
	assert_timestamp(out, lo, hi);
	/* Exact text of both lines after their timestamps. */
	l1 = " lanparty-relay info: room ROOM1 has 3 peers\n";
	assert_memory_equal(out + 24, l1, strlen(l1));
	out += 24 + strlen(l1);
	assert_timestamp(out, lo, hi);
	assert_string_equal(out + 24, " lanparty-relay error: bad\n");
	fclose(f);
}

static void test_sink_level_filter(void **state)
{
	struct lp_obs_sink s;
	FILE *f = tmpfile();
	char *out;

	(void)state;
	lp_obs_sink_init(&s, "p", LP_LOG_WARN, LP_OBS_FORMAT_TEXT, f);
	lp_log(&s.logger, LP_LOG_INFO, "hidden");
	lp_log(&s.logger, LP_LOG_DEBUG, "hidden");
	lp_log(&s.logger, LP_LOG_WARN, "shown");
	out = slurp(f);
	assert_string_equal(out + 24, " p warn: shown\n");
	assert_null(strstr(out, "hidden"));
	fclose(f);
}

static void test_sink_text_escapes(void **state)
{
	struct lp_obs_sink s;
	FILE *f = tmpfile();
	char *out;

	(void)state;
	lp_obs_sink_init(&s, "p", LP_LOG_TRACE, LP_OBS_FORMAT_TEXT, f);
	lp_log(&s.logger, LP_LOG_TRACE,
	       "a\nb\rc\td\x01"
	       "e\x7f"
	       "f \"q\" \\ \xc3\xa9");
	out = slurp(f);
	assert_string_equal(out + 24, " p trace: a\\nb\\rc\\td\\x01e\\x7ff \"q\" \\ \xc3\xa9\n");
	fclose(f);
}

static void test_sink_json_exact(void **state)
{
	struct lp_obs_sink s;
	FILE *f = tmpfile();
	time_t lo, hi;
	char *out;

	(void)state;
	lp_obs_sink_init(&s, "lanparty-gw", LP_LOG_DEBUG, LP_OBS_FORMAT_JSON, f);
	lo = time(NULL);
	lp_log(&s.logger, LP_LOG_DEBUG, "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f %s",
	       "\xc3\xa9\xe2\x82\xac");
	hi = time(NULL);
	out = slurp(f);
	assert_memory_equal(out, "{\"ts\":\"", 7);
	assert_timestamp(out + 7, lo, hi);
	assert_string_equal(out + 31, "\",\"prog\":\"lanparty-gw\",\"level\":\"debug\",\"msg\":"
	                              "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f "
	                              "\xc3\xa9\xe2\x82\xac\"}\n");
	fclose(f);
}

static void test_sink_json_invalid_utf8(void **state)
{
	struct lp_obs_sink s;
	FILE *f = tmpfile();
	char *out;

	(void)state;
	lp_obs_sink_init(&s, "p", LP_LOG_INFO, LP_OBS_FORMAT_JSON, f);
	/* lone continuation, overlong '/', CESU surrogate, truncated 3-byte seq */
	lp_log(&s.logger, LP_LOG_INFO,
	       "a\x80"
	       "b\xc0\xaf"
	       "c\xed\xa0\x80"
	       "d\xe2\x82");
	out = slurp(f);
	assert_string_equal(
	        out + 31, "\",\"prog\":\"p\",\"level\":\"info\",\"msg\":\"a\\ufffdb\\ufffd\\ufffdc"
	                  "\\ufffd\\ufffd\\ufffdd\\ufffd\\ufffd\"}\n");
	fclose(f);
}

static void test_sink_long_message(void **state)
{
	struct lp_obs_sink s;
	FILE *f = tmpfile();
	char big[5001];
	char *out;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	lp_obs_sink_init(&s, "p", LP_LOG_INFO, LP_OBS_FORMAT_TEXT, f);
	lp_log(&s.logger, LP_LOG_INFO, "%s!", big);
	out = slurp(f);
	assert_int_equal(strlen(out), 24 + strlen(" p info: ") + 5000 + 2);
	assert_memory_equal(out + 24 + 9, big, 5000);
	assert_string_equal(out + 24 + 9 + 5000, "!\n");
	fclose(f);
}

static void test_sink_init_defaults(void **state)
{
	struct lp_obs_sink s;
	char longname[80];

	(void)state;
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	lp_obs_sink_init(&s, longname, LP_LOG_INFO, LP_OBS_FORMAT_TEXT, NULL);
	assert_ptr_equal(s.out, stderr);
	assert_int_equal(strlen(s.prog), sizeof(s.prog) - 1);
	assert_ptr_equal(s.logger.user, &s);
	assert_non_null(s.logger.fn);
	assert_int_equal(s.logger.level, LP_LOG_INFO);
}

static void test_level_names(void **state)
{
	static const char *const names[] = { "error", "warn", "info", "debug", "trace" };
	enum lp_log_level l;
	size_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		assert_int_equal(lp_obs_level_parse(names[i], &l), 0);
		assert_int_equal(l, (enum lp_log_level)i);
		assert_string_equal(lp_obs_level_name(l), names[i]);
	}
	assert_int_equal(lp_obs_level_parse("INFO", &l), LP_ERR_INVAL);
	assert_int_equal(lp_obs_level_parse("warning", &l), LP_ERR_INVAL);
	assert_int_equal(lp_obs_level_parse("", &l), LP_ERR_INVAL);
	assert_int_equal(lp_obs_level_parse(NULL, &l), LP_ERR_INVAL);
	assert_string_equal(lp_obs_level_name((enum lp_log_level)9), "unknown");
}

/* ---- drops and actions --------------------------------------------------- */

static void test_drop_names(void **state)
{
	enum lp_drop_reason r;
	size_t i, j;

	(void)state;
	assert_string_equal(lp_obs_drop_name(LP_DROP_TOO_BIG), "too_big");
	assert_string_equal(lp_obs_drop_name(LP_DROP_DHCP_SERVER), "dhcp_server");
	assert_string_equal(lp_obs_drop_name(LP_DROP_IPV6_RA), "ipv6_ra");
	assert_string_equal(lp_obs_drop_name(LP_DROP_RATE_TOTAL), "rate_total");
	assert_string_equal(lp_obs_drop_name(LP_DROP__COUNT), "unknown");
	for (i = 0; i < LP_DROP__COUNT; i++) {
		const char *n = lp_obs_drop_name((enum lp_drop_reason)i);

		assert_int_equal(lp_obs_drop_from_name(n, &r), 0);
		assert_int_equal(r, (enum lp_drop_reason)i);
		for (j = 0; j < i; j++)
			assert_string_not_equal(n, lp_obs_drop_name((enum lp_drop_reason)j));
	}
	assert_int_equal(lp_obs_drop_from_name("too-big", &r), LP_ERR_NOT_FOUND);
	assert_int_equal(lp_obs_drop_from_name("", &r), LP_ERR_NOT_FOUND);
	assert_int_equal(lp_obs_drop_from_name("unknown", &r), LP_ERR_NOT_FOUND);
	assert_int_equal(lp_obs_drop_from_name(NULL, &r), LP_ERR_NOT_FOUND);
}

static void test_drops_total(void **state)
{
	struct lp_counters c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(lp_obs_drops_total(&c), 0);
	lp_obs_count_drop(&c, LP_DROP_TOO_BIG);
	lp_obs_count_drop(&c, LP_DROP_TOO_BIG);
	lp_obs_count_drop(&c, LP_DROP_RATE_TOTAL);
	c.frames_rx = 100; /* not a drop */
	assert_int_equal(c.drops[LP_DROP_TOO_BIG], 2);
	assert_int_equal(lp_obs_drops_total(&c), 3);
}

static void test_actions(void **state)
{
	(void)state;
	assert_int_equal(lp_obs_action_for(LP_DROP_NONE), LP_OBS_FORWARDED);
	assert_int_equal(lp_obs_action_for(LP_DROP_TOO_BIG), LP_OBS_DROPPED);
	assert_int_equal(lp_obs_action_for(LP_DROP_QUEUE_FULL), LP_OBS_DROPPED);
	assert_int_equal(lp_obs_action_for(LP_DROP_LOOP), LP_OBS_DROPPED);
	assert_int_equal(lp_obs_action_for(LP_DROP_INVALID_SRC), LP_OBS_FILTERED);
	assert_int_equal(lp_obs_action_for(LP_DROP_SPOOFED_SRC), LP_OBS_FILTERED);
	assert_int_equal(lp_obs_action_for(LP_DROP_JUMBO), LP_OBS_FILTERED);
	assert_int_equal(lp_obs_action_for(LP_DROP_SWITCH_CONTROL), LP_OBS_FILTERED);
	assert_int_equal(lp_obs_action_for(LP_DROP_DHCP_SERVER), LP_OBS_FILTERED);
	assert_int_equal(lp_obs_action_for(LP_DROP_IPV6_RA), LP_OBS_FILTERED);
	assert_int_equal(lp_obs_action_for(LP_DROP_RATE_BROADCAST), LP_OBS_RATE_LIMITED);
	assert_int_equal(lp_obs_action_for(LP_DROP_RATE_UNKNOWN), LP_OBS_RATE_LIMITED);
	assert_int_equal(lp_obs_action_for(LP_DROP_RATE_TOTAL), LP_OBS_RATE_LIMITED);
	assert_string_equal(lp_obs_action_name(LP_OBS_FORWARDED), "forwarded");
	assert_string_equal(lp_obs_action_name(LP_OBS_DROPPED), "dropped");
	assert_string_equal(lp_obs_action_name(LP_OBS_FILTERED), "filtered");
	assert_string_equal(lp_obs_action_name(LP_OBS_RATE_LIMITED), "rate_limited");
	assert_string_equal(lp_obs_dir_name(LP_OBS_DIR_FROM_RELAY), "from_relay");
	assert_string_equal(lp_obs_dir_name(LP_OBS_DIR_TO_RELAY), "to_relay");
	assert_string_equal(lp_obs_dir_name(LP_OBS_DIR_RELAY_INGRESS), "relay_ingress");
}

/* ---- frame events -------------------------------------------------------- */

static const uint8_t mac_a[6] = { 0x02, 0x00, 0x5e, 0x10, 0x00, 0x01 };
static const uint8_t mac_b[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void event_init(struct lp_obs_frame_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->dir = LP_OBS_DIR_TO_RELAY;
	ev->room = "ROOM1";
	ev->peer_id = 3;
	memcpy(ev->src.b, mac_a, 6);
	memcpy(ev->dst.b, mac_b, 6);
	ev->ethertype = 0x0800;
	ev->frame_len = 98;
	ev->action = LP_OBS_FORWARDED;
	ev->reason = LP_DROP_NONE;
	ev->targets = 2;
}

static void test_frame_event_forwarded(void **state)
{
	static const char want[] = "frame dir=to_relay room=ROOM1 peer=3 src=02:00:5e:10:00:01 "
	                           "dst=ff:ff:ff:ff:ff:ff type=0x0800 len=98 action=forwarded "
	                           "targets=2";
	struct lp_obs_frame_event ev;
	char out[256];

	(void)state;
	event_init(&ev);
	assert_int_equal(lp_obs_frame_event_format(&ev, out, sizeof(out)), strlen(want));
	assert_string_equal(out, want);
	/* Exactly fits with the NUL; one byte less does not. */
	assert_int_equal(lp_obs_frame_event_format(&ev, out, sizeof(want)), strlen(want));
	assert_string_equal(out, want);
	assert_int_equal(lp_obs_frame_event_format(&ev, out, sizeof(want) - 1), LP_ERR_NOBUF);
	assert_string_equal(out, "");
	assert_int_equal(lp_obs_frame_event_format(&ev, out, 10), LP_ERR_NOBUF);
	assert_int_equal(lp_obs_frame_event_format(&ev, out, 0), LP_ERR_NOBUF);
}

static void test_frame_event_dropped(void **state)
{
	struct lp_obs_frame_event ev;
	char out[256];

	(void)state;
	event_init(&ev);
	ev.dir = LP_OBS_DIR_FROM_RELAY;
	ev.room = NULL;
	ev.peer_id = -1;
	ev.ethertype = 0x86dd;
	ev.frame_len = 1518;
	ev.action = LP_OBS_DROPPED;
	ev.reason = LP_DROP_TOO_BIG;
	ev.targets = 0;
	assert_true(lp_obs_frame_event_format(&ev, out, sizeof(out)) > 0);
	assert_string_equal(out, "frame dir=from_relay src=02:00:5e:10:00:01 dst=ff:ff:ff:ff:ff:ff "
	                         "type=0x86dd len=1518 action=dropped reason=too_big targets=0");

	ev.dir = LP_OBS_DIR_RELAY_INGRESS;
	ev.room = "R-2";
	ev.peer_id = 2147483647;
	ev.ethertype = 0x0806;
	ev.frame_len = 60;
	ev.action = lp_obs_action_for(LP_DROP_DHCP_SERVER);
	ev.reason = LP_DROP_DHCP_SERVER;
	assert_true(lp_obs_frame_event_format(&ev, out, sizeof(out)) > 0);
	assert_string_equal(out, "frame dir=relay_ingress room=R-2 peer=2147483647 "
	                         "src=02:00:5e:10:00:01 dst=ff:ff:ff:ff:ff:ff type=0x0806 len=60 "
	                         "action=filtered reason=dhcp_server targets=0");
}

static void test_frame_event_room_sanitized(void **state)
{
	struct lp_obs_frame_event ev;
	char out[256];

	(void)state;
	event_init(&ev);
	ev.room = "a b\nc";
	ev.peer_id = 0;
	assert_true(lp_obs_frame_event_format(&ev, out, sizeof(out)) > 0);
	assert_string_equal(out, "frame dir=to_relay room=a?b?c peer=0 src=02:00:5e:10:00:01 "
	                         "dst=ff:ff:ff:ff:ff:ff type=0x0800 len=98 action=forwarded "
	                         "targets=2");
}

static void test_frame_event_from_frame(void **state)
{
	uint8_t f[64];
	struct lp_obs_frame_event ev;

	(void)state;
	memset(f, 0, sizeof(f));
	memcpy(f, mac_b, 6);
	memcpy(f + 6, mac_a, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	event_init(&ev);
	ev.targets = 7;
	lp_obs_frame_event_from_frame(&ev, f, 60);
	assert_memory_equal(ev.dst.b, mac_b, 6);
	assert_memory_equal(ev.src.b, mac_a, 6);
	assert_int_equal(ev.ethertype, 0x0806);
	assert_int_equal(ev.frame_len, 60);
	/* Fields that do not come from the frame are the caller's. */
	assert_int_equal(ev.targets, 7);
	assert_int_equal(ev.peer_id, 3);
	assert_string_equal(ev.room, "ROOM1");

	/* 802.1Q tag: the inner ethertype is logged. */
	f[12] = 0x81;
	f[13] = 0x00;
	f[14] = 0x00;
	f[15] = 0x0a;
	f[16] = 0x08;
	f[17] = 0x00;
	lp_obs_frame_event_from_frame(&ev, f, 64);
	assert_int_equal(ev.ethertype, 0x0800);
	assert_int_equal(ev.frame_len, 64);

	/* Tag announced but cut short: addresses and the outer type remain. */
	lp_obs_frame_event_from_frame(&ev, f, 16);
	assert_int_equal(ev.ethertype, 0x8100);
	assert_memory_equal(ev.src.b, mac_a, 6);

	/* Runt: zeros. */
	lp_obs_frame_event_from_frame(&ev, f, 13);
	assert_int_equal(ev.ethertype, 0);
	assert_int_equal(ev.frame_len, 13);
	assert_memory_equal(ev.src.b, "\0\0\0\0\0\0", 6);
	assert_memory_equal(ev.dst.b, "\0\0\0\0\0\0", 6);
}

/* ---- diagnostics --------------------------------------------------------- */

struct lines {
	size_t n;
	char l[24][320];
};

static void collect(void *user, const char *line)
{
	struct lines *ls = user;

	assert_true(ls->n < 24);
	assert_true(strlen(line) < sizeof(ls->l[0]));
	strcpy(ls->l[ls->n++], line);
}

static void good_diag(struct lp_obs_diag *d)
{
	memset(d, 0, sizeof(*d));
	d->relay_connected = true;
	d->gateway_present = true;
	d->datagram_budget = 1407;
	d->mtu = 1380;
	d->tap = LP_OBS_TAP_UP;
	strcpy(d->tap_name, "tap0");
	strcpy(d->tap_ip, "10.77.0.23");
	d->route = LP_OBS_ROUTE_NA;
	d->counters.broadcast_rx = 12;
	d->counters.frames_rx = 120;
	d->counters.bytes_rx = 15565; /* 15.2 KB */
	d->counters.frames_tx = 80;
	d->counters.bytes_tx = 9400; /* 9.1 KB */
}

static void run(const struct lp_obs_diag *d, const struct lp_obs_diag *prev, struct lines *ls)
{
	memset(ls, 0, sizeof(*ls));
	lp_obs_diag_lines(d, prev, collect, ls);
}

static int has_line(const struct lines *ls, const char *want)
{
	size_t i;

	for (i = 0; i < ls->n; i++) {
		if (strcmp(ls->l[i], want) == 0)
			return 1;
	}
	return 0;
}

static void test_diag_all_good(void **state)
{
	struct lp_obs_diag d;
	struct lines ls;

	(void)state;
	good_diag(&d);
	run(&d, NULL, &ls);
	assert_int_equal(ls.n, 5);
	assert_string_equal(ls.l[0], "relay: connected; LAN gateway present");
	assert_string_equal(ls.l[1], "tunnel: datagram budget 1407 bytes, MTU 1380");
	assert_string_equal(ls.l[2], "tap: tap0 up, IPv4 10.77.0.23");
	assert_string_equal(ls.l[3], "broadcast: 12 LAN broadcast frames seen");
	assert_string_equal(ls.l[4],
	                    "traffic: rx 120 frames / 15.2 KB, tx 80 frames / 9.1 KB, drops 0");
	/* Same state again: nothing to announce, the same five lines. */
	run(&d, &d, &ls);
	assert_int_equal(ls.n, 5);
	assert_string_equal(ls.l[0], "relay: connected; LAN gateway present");
}

static void test_diag_waiting_for_dhcp(void **state)
{
	struct lp_obs_diag d, prev;
	struct lines ls;

	(void)state;
	good_diag(&prev);
	prev.tap_ip[0] = '\0';
	prev.gateway_present = false;
	prev.counters.broadcast_rx = 0;
	run(&prev, NULL, &ls);
	assert_int_equal(ls.n, 6);
	assert_string_equal(ls.l[0], "relay: connected; no LAN gateway in the room yet "
	                             "(the party LAN is not reachable)");
	assert_string_equal(ls.l[2], "tap: tap0 up, no IPv4 address");
	assert_string_equal(ls.l[3], "broadcast: no LAN broadcast frames seen yet");
	assert_string_equal(ls.l[5],
	                    "warning: TAP has no IPv4 address yet (waiting for DHCP from the LAN)");

	/* Gateway arrives, DHCP answers, broadcasts flow: three announcements
	 * first, then the status lines. */
	good_diag(&d);
	run(&d, &prev, &ls);
	assert_int_equal(ls.n, 8);
	assert_string_equal(ls.l[0], "LAN gateway joined: the party LAN is now reachable");
	assert_string_equal(ls.l[1], "DHCP address acquired: 10.77.0.23");
	assert_string_equal(ls.l[2],
	                    "broadcast flow confirmed: LAN broadcasts reach this computer");
	assert_string_equal(ls.l[3], "relay: connected; LAN gateway present");
	assert_false(has_line(&ls, "warning: TAP has no IPv4 address yet (waiting for DHCP from "
	                           "the LAN)"));
}

static void test_diag_gateway_left_and_ip_changes(void **state)
{
	struct lp_obs_diag d, prev;
	struct lines ls;

	(void)state;
	good_diag(&prev);
	good_diag(&d);
	d.gateway_present = false;
	strcpy(d.tap_ip, "10.77.0.99");
	run(&d, &prev, &ls);
	assert_string_equal(ls.l[0],
	                    "LAN gateway left: the party LAN is unreachable until it comes back");
	assert_string_equal(ls.l[1], "DHCP address changed: 10.77.0.23 -> 10.77.0.99");
	assert_false(has_line(&ls, "broadcast flow confirmed: LAN broadcasts reach this computer"));

	d.tap_ip[0] = '\0';
	d.gateway_present = true;
	run(&d, &prev, &ls);
	assert_string_equal(ls.l[0], "warning: the TAP adapter lost its IPv4 address 10.77.0.23");
	assert_true(has_line(&ls, "warning: TAP has no IPv4 address yet (waiting for DHCP from "
	                          "the LAN)"));
}

static void test_diag_relay_lost_and_restored(void **state)
{
	struct lp_obs_diag d, prev;
	struct lines ls;

	(void)state;
	good_diag(&prev);
	good_diag(&d);
	d.relay_connected = false;
	d.gateway_present = false;
	d.reconnects = 3;
	run(&d, &prev, &ls);
	assert_string_equal(ls.l[0], "relay: connection lost, reconnecting...");
	assert_string_equal(ls.l[1], "relay: not connected, retrying (3 reconnects so far)");
	/* Gateway presence is unknown while disconnected: no "gateway left". */
	assert_false(has_line(&ls, "LAN gateway left: the party LAN is unreachable until it comes "
	                           "back"));
	/* No tunnel line without a relay. */
	assert_string_equal(ls.l[2], "tap: tap0 up, IPv4 10.77.0.23");

	d.reconnects = 1;
	run(&d, NULL, &ls);
	assert_string_equal(ls.l[0], "relay: not connected, retrying (1 reconnect so far)");

	run(&prev, &d, &ls);
	assert_string_equal(ls.l[0], "relay: connection restored");
	assert_string_equal(ls.l[1], "relay: connected; LAN gateway present");
}

static void test_diag_route(void **state)
{
	static const char lost[] = "warning: relay route lost: traffic to the relay no longer "
	                           "uses the original network and the tunnel may break";
	struct lp_obs_diag d, prev;
	struct lines ls;

	(void)state;
	good_diag(&prev);
	prev.route = LP_OBS_ROUTE_PINNED;
	run(&prev, NULL, &ls);
	assert_int_equal(ls.n, 6);
	assert_string_equal(ls.l[3], "route: relay traffic pinned to the original network");

	good_diag(&d);
	d.route = LP_OBS_ROUTE_LOST;
	run(&d, &prev, &ls);
	assert_int_equal(ls.n, 6);
	assert_string_equal(ls.l[5], lost);
	/* The warning repeats while the route stays lost. */
	run(&d, &d, &ls);
	assert_string_equal(ls.l[5], lost);

	run(&prev, &d, &ls);
	assert_string_equal(ls.l[0], "route: relay route restored");
	assert_false(has_line(&ls, lost));
}

static void test_diag_tap_states(void **state)
{
	struct lp_obs_diag d;
	struct lines ls;

	(void)state;
	good_diag(&d);
	d.tap = LP_OBS_TAP_DOWN;
	run(&d, NULL, &ls);
	assert_string_equal(ls.l[2], "tap: tap0 down");
	assert_string_equal(ls.l[ls.n - 1], "warning: TAP adapter tap0 is down; LAN traffic "
	                                    "cannot reach this computer");
	d.tap = LP_OBS_TAP_ABSENT;
	d.tap_name[0] = '\0';
	d.tap_ip[0] = '\0';
	run(&d, NULL, &ls);
	assert_string_equal(ls.l[2], "tap: no TAP adapter");
	assert_string_equal(ls.l[ls.n - 1],
	                    "warning: no TAP adapter found; install or enable the TAP driver");
	/* Absent TAP: no DHCP nagging on top. */
	assert_false(has_line(&ls, "warning: TAP has no IPv4 address yet (waiting for DHCP from "
	                           "the LAN)"));
}

static void test_diag_sizes_and_drops(void **state)
{
	struct lp_obs_diag d;
	struct lines ls;

	(void)state;
	good_diag(&d);
	d.counters.frames_rx = 1;
	d.counters.bytes_rx = 1023;
	d.counters.frames_tx = 0;
	d.counters.bytes_tx = 0;
	d.counters.broadcast_rx = 1;
	d.counters.drops[LP_DROP_TOO_BIG] = 4;
	d.counters.drops[LP_DROP_JUMBO] = 1;
	run(&d, NULL, &ls);
	assert_string_equal(ls.l[3], "broadcast: 1 LAN broadcast frame seen");
	assert_string_equal(ls.l[4], "traffic: rx 1 frame / 1023 B, tx 0 frames / 0 B, drops 5");

	d.counters.bytes_rx = 1024;
	d.counters.bytes_tx = 1048575; /* just under 1 MB: cut, not rounded up */
	run(&d, NULL, &ls);
	assert_string_equal(ls.l[4],
	                    "traffic: rx 1 frame / 1.0 KB, tx 0 frames / 1023.9 KB, drops 5");

	d.counters.bytes_rx = UINT64_C(1048576) * 5 + UINT64_C(1048576) / 2;
	d.counters.bytes_tx = UINT64_C(1073741824) * 3;
	run(&d, NULL, &ls);
	assert_string_equal(ls.l[4], "traffic: rx 1 frame / 5.5 MB, tx 0 frames / 3.0 GB, drops 5");

	d.counters.bytes_rx = UINT64_MAX;
	d.counters.bytes_tx = UINT64_C(1073741824) * 4096; /* stays in GB */
	run(&d, NULL, &ls);
	assert_string_equal(ls.l[4], "traffic: rx 1 frame / 17179869183.9 GB, tx 0 frames / "
	                             "4096.0 GB, drops 5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sink_text_exact),
		cmocka_unit_test(test_sink_level_filter),
		cmocka_unit_test(test_sink_text_escapes),
		cmocka_unit_test(test_sink_json_exact),
		cmocka_unit_test(test_sink_json_invalid_utf8),
		cmocka_unit_test(test_sink_long_message),
		cmocka_unit_test(test_sink_init_defaults),
		cmocka_unit_test(test_level_names),
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_drops_total),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_frame_event_forwarded),
		cmocka_unit_test(test_frame_event_dropped),
		cmocka_unit_test(test_frame_event_room_sanitized),
		cmocka_unit_test(test_frame_event_from_frame),
		cmocka_unit_test(test_diag_all_good),
		cmocka_unit_test(test_diag_waiting_for_dhcp),
		cmocka_unit_test(test_diag_gateway_left_and_ip_changes),
		cmocka_unit_test(test_diag_relay_lost_and_restored),
		cmocka_unit_test(test_diag_route),
		cmocka_unit_test(test_diag_tap_states),
		cmocka_unit_test(test_diag_sizes_and_drops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
