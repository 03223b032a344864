/* Unit tests for src/gateway/cam.c with fake time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cam.h"

#define SEC LP_NS_PER_SEC
#define T0 (1000 * SEC)

static const struct lp_mac own = { { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55 } };
static const struct lp_mac a = { { 0x02, 0, 0, 0, 0, 0x0a } };
static const struct lp_mac b = { { 0x02, 0, 0, 0, 0, 0x0b } };

static struct lp_cam cam;
static uint8_t out[LP_CAM_MAX_ENTRIES + 4][LP_CAM_FRAME_LEN];

static void test_frame_layout(void **state)
{
	uint8_t f[LP_CAM_FRAME_LEN];
	static const char text[] = "softlan-vpn cam refresh";
	size_t i;

	(void)state;
	memset(f, 0xaa, sizeof(f));
	lp_cam_frame_build(&a, &own, f);
	assert_memory_equal(f, own.b, 6);
	assert_memory_equal(f + 6, a.b, 6);
	assert_int_equal(f[12], 0x88);
	assert_int_equal(f[13], 0xb5);
	assert_memory_equal(f + 14, text, sizeof(text) - 1);
	for (i = 14 + sizeof(text) - 1; i < sizeof(f); i++)
		assert_int_equal(f[i], 0);
}

static void test_add_due_immediately_then_interval(void **state)
{
	(void)state;
	lp_cam_init(&cam, &own, 0);
	assert_int_equal(lp_cam_next_deadline(&cam), UINT64_MAX);
	assert_int_equal(lp_cam_collect(&cam, T0, out, 8), 0);

	assert_int_equal(lp_cam_add(&cam, &a, T0), 1);
	assert_int_equal(lp_cam_add(&cam, &a, T0 + SEC), 0); /* already there: unchanged */
	assert_int_equal(lp_cam_next_deadline(&cam), T0);
	assert_int_equal(lp_cam_collect(&cam, T0, out, 8), 1);
	assert_memory_equal(out[0] + 6, a.b, 6);
	assert_memory_equal(out[0], own.b, 6);
	/* default interval 30 s */
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + 30 * SEC);
	assert_int_equal(lp_cam_collect(&cam, T0 + 30 * SEC - 1, out, 8), 0);
	assert_int_equal(lp_cam_collect(&cam, T0 + 30 * SEC, out, 8), 1);
	/* a late collect reschedules from now, not from the missed deadline */
	assert_int_equal(lp_cam_collect(&cam, T0 + 200 * SEC, out, 8), 1);
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + 230 * SEC);
	assert_int_equal(lp_cam_collect(&cam, T0 + 200 * SEC, out, 8), 0);
}

static void test_touch_postpones_and_seeds(void **state)
{
	(void)state;
	lp_cam_init(&cam, &own, 10 * SEC);
	assert_int_equal(lp_cam_add(&cam, &a, T0), 1);
	/* traffic from the relay with src a: the switch just learnt it */
	assert_int_equal(lp_cam_touch(&cam, &a, T0 + 2 * SEC), 0);
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + 12 * SEC);
	assert_int_equal(lp_cam_collect(&cam, T0 + 11 * SEC, out, 8), 0);
	/* an unknown source seeds a new entry, due one interval later */
	assert_int_equal(lp_cam_touch(&cam, &b, T0 + 5 * SEC), 1);
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + 12 * SEC);
	assert_int_equal(lp_cam_collect(&cam, T0 + 15 * SEC, out, 8), 2);
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + 25 * SEC);
}

static void test_remove(void **state)
{
	(void)state;
	lp_cam_init(&cam, &own, 0);
	assert_int_equal(lp_cam_add(&cam, &a, T0), 1);
	assert_int_equal(lp_cam_add(&cam, &b, T0 + SEC), 1);
	assert_int_equal(lp_cam_remove(&cam, &a), 0);
	assert_int_equal(lp_cam_remove(&cam, &a), LP_ERR_NOT_FOUND);
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + SEC);
	assert_int_equal(lp_cam_collect(&cam, T0 + SEC, out, 8), 1);
	assert_memory_equal(out[0] + 6, b.b, 6);
	assert_int_equal(lp_cam_remove(&cam, &b), 0);
	assert_int_equal(lp_cam_next_deadline(&cam), UINT64_MAX);
}

static void test_refused_macs(void **state)
{
	struct lp_mac zero = { { 0 } }, mcast = { { 0x01, 0, 0x5e, 0, 0, 1 } },
	              bcast = { { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };

	(void)state;
	lp_cam_init(&cam, &own, 0);
	assert_int_equal(lp_cam_add(&cam, &zero, T0), LP_ERR_MAC_ZERO);
	assert_int_equal(lp_cam_add(&cam, &mcast, T0), LP_ERR_MAC_GROUP);
	assert_int_equal(lp_cam_touch(&cam, &bcast, T0), LP_ERR_MAC_GROUP);
	assert_int_equal(lp_cam_add(&cam, &own, T0), LP_ERR_INVAL);
	assert_int_equal(lp_cam_next_deadline(&cam), UINT64_MAX);
}

static void test_bounded_and_partial_collect(void **state)
{
	struct lp_mac m = { { 0x02, 0, 0, 0, 0, 0 } };
	size_t i, total;

	(void)state;
	lp_cam_init(&cam, &own, 0);
	for (i = 0; i < LP_CAM_MAX_ENTRIES; i++) {
		m.b[4] = (uint8_t)(i >> 8);
		m.b[5] = (uint8_t)i;
		assert_int_equal(lp_cam_add(&cam, &m, T0), 1);
	}
	m.b[3] = 1;
	assert_int_equal(lp_cam_add(&cam, &m, T0), LP_ERR_NOBUF);
	assert_int_equal(lp_cam_touch(&cam, &m, T0), LP_ERR_NOBUF);
	/* only 100 fit per call: the rest stay due */
	assert_int_equal(lp_cam_collect(&cam, T0, out, 100), 100);
	assert_int_equal(lp_cam_next_deadline(&cam), T0);
	total = 100 + lp_cam_collect(&cam, T0, out, LP_CAM_MAX_ENTRIES + 4);
	assert_int_equal(total, LP_CAM_MAX_ENTRIES);
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + LP_CAM_DEFAULT_INTERVAL_NS);
	/* removing makes room again */
	m.b[3] = 0;
	m.b[5] = 7;
	assert_int_equal(lp_cam_remove(&cam, &m), 0);
	m.b[3] = 1;
	assert_int_equal(lp_cam_add(&cam, &m, T0), 1);
}

/* A room frame from src to the broadcast address. */
static size_t room_frame(uint8_t *f, const struct lp_mac *src)
{
	memset(f, 0xff, 6);
	memcpy(f + 6, src->b, 6);
	lp_put_u16(f + 12, LP_ETHERTYPE_ARP);
	memset(f + 14, 0, 28);
	return 42;
}

static const struct lp_mac router = { { 0x00, 0x1b, 0x21, 0, 0, 0x01 } };
static const struct lp_mac phone = { { 0x06, 0x1b, 0x21, 0, 0, 0x02 } }; /* private MAC */

/* A player sending as a LAN host: dropped, counted as lan_mac, and never
 * refreshed onto the switch. */
static void test_lan_mac_refused_from_room(void **state)
{
	uint8_t f[64];
	bool added = true;

	(void)state;
	lp_cam_init(&cam, &own, 10 * SEC);
	assert_int_equal(lp_cam_lan_seen(&cam, &router, T0), 0);
	assert_int_equal(lp_cam_lan_seen(&cam, &phone, T0), 0);
	assert_true(lp_cam_is_lan(&cam, &router, T0));
	assert_false(lp_cam_is_lan(&cam, &a, T0));
	assert_int_equal(lp_cam_from_room(&cam, f, room_frame(f, &router), T0 + SEC, &added),
	                 LP_DROP_LAN_MAC);
	assert_false(added);
	assert_int_equal(lp_cam_from_room(&cam, f, room_frame(f, &phone), T0 + SEC, &added),
	                 LP_DROP_LAN_MAC);
	/* Neither was tracked, so no refresh ever carries them. */
	assert_int_equal(cam.count, 0);
	assert_int_equal(lp_cam_next_deadline(&cam), UINT64_MAX);
	/* PEER_JOINED with a LAN MAC (a relay that let it in) is refused too. */
	assert_int_equal(lp_cam_add(&cam, &phone, T0 + SEC), LP_ERR_INVAL);
	assert_int_equal(lp_cam_touch(&cam, &phone, T0 + SEC), LP_ERR_INVAL);
	assert_int_equal(lp_cam_collect(&cam, T0 + 100 * SEC, out, 8), 0);
	/* A real client passes and is tracked, once. */
	assert_int_equal(lp_cam_from_room(&cam, f, room_frame(f, &a), T0 + SEC, &added),
	                 LP_DROP_NONE);
	assert_true(added);
	assert_int_equal(lp_cam_from_room(&cam, f, room_frame(f, &a), T0 + 2 * SEC, &added),
	                 LP_DROP_NONE);
	assert_false(added);
	assert_int_equal(lp_cam_next_deadline(&cam), T0 + 12 * SEC);
	/* Runts. */
	assert_int_equal(lp_cam_from_room(&cam, f, 13, T0, &added), LP_DROP_MALFORMED);
}

/* The player arrived first: when the LAN host speaks, it wins. */
static void test_lan_seen_takes_mac_back(void **state)
{
	uint8_t f[64];
	bool added;

	(void)state;
	lp_cam_init(&cam, &own, 10 * SEC);
	assert_int_equal(lp_cam_add(&cam, &phone, T0), 1);
	assert_int_equal(lp_cam_add(&cam, &a, T0), 1);
	assert_int_equal(lp_cam_lan_seen(&cam, &phone, T0 + SEC), 1);
	assert_int_equal(lp_cam_lan_seen(&cam, &phone, T0 + 2 * SEC), 0);
	assert_int_equal(cam.count, 1);
	assert_int_equal(lp_cam_collect(&cam, T0 + 2 * SEC, out, 8), 1);
	assert_memory_equal(out[0] + 6, a.b, 6);
	assert_int_equal(lp_cam_from_room(&cam, f, room_frame(f, &phone), T0 + 3 * SEC, &added),
	                 LP_DROP_LAN_MAC);
	/* A new relay session forgets clients, not the LAN. */
	lp_cam_clear_remote(&cam);
	assert_int_equal(cam.count, 0);
	assert_true(lp_cam_is_lan(&cam, &phone, T0 + 3 * SEC));
}

static void test_lan_aging_and_ignored(void **state)
{
	struct lp_mac zero = { { 0 } }, mcast = { { 0x01, 0, 0x5e, 0, 0, 1 } };
	uint8_t f[64];
	bool added;

	(void)state;
	lp_cam_init(&cam, &own, 0);
	assert_int_equal(cam.lan_aging_ns, LP_CAM_LAN_AGING_NS);
	assert_int_equal(lp_cam_lan_seen(&cam, &router, T0), 0);
	assert_true(lp_cam_is_lan(&cam, &router, T0 + LP_CAM_LAN_AGING_NS - 1));
	assert_false(lp_cam_is_lan(&cam, &router, T0 + LP_CAM_LAN_AGING_NS));
	/* Seen again: renewed. */
	assert_int_equal(lp_cam_lan_seen(&cam, &router, T0 + 200 * SEC), 0);
	assert_true(lp_cam_is_lan(&cam, &router, T0 + 200 * SEC + LP_CAM_LAN_AGING_NS - 1));
	/* Aged out, a player may use it again (the switch forgot it too). */
	assert_int_equal(lp_cam_from_room(&cam, f, room_frame(f, &router),
	                                  T0 + 200 * SEC + LP_CAM_LAN_AGING_NS, &added),
	                 LP_DROP_NONE);
	assert_true(added);
	/* ... until the host speaks again: it takes the MAC back. */
	assert_int_equal(lp_cam_lan_seen(&cam, &router, T0 + 201 * SEC + LP_CAM_LAN_AGING_NS), 1);
	assert_int_equal(cam.count, 0);
	/* Group and zero sources are not hosts. */
	assert_int_equal(lp_cam_lan_seen(&cam, &zero, T0), 0);
	assert_int_equal(lp_cam_lan_seen(&cam, &mcast, T0), 0);
	assert_false(lp_cam_is_lan(&cam, &zero, T0));
	assert_false(lp_cam_is_lan(&cam, &mcast, T0));
}

/* Bounded: more hosts than slots evicts the oldest of a set, and the most
 * recent hosts are always remembered. */
static void test_lan_table_bounded(void **state)
{
	const size_t n = 3 * LP_CAM_LAN_SETS * LP_CAM_LAN_WAYS;
	struct lp_mac m = { { 0x00, 0x50, 0, 0, 0, 0 } };
	size_t live = 0, i;

	(void)state;
	lp_cam_init(&cam, &own, 0);
	for (i = 0; i < n; i++) {
		m.b[3] = (uint8_t)(i >> 16);
		m.b[4] = (uint8_t)(i >> 8);
		m.b[5] = (uint8_t)i;
		assert_int_equal(lp_cam_lan_seen(&cam, &m, T0 + i), 0);
	}
	for (i = 0; i < n; i++) {
		m.b[3] = (uint8_t)(i >> 16);
		m.b[4] = (uint8_t)(i >> 8);
		m.b[5] = (uint8_t)i;
		live += lp_cam_is_lan(&cam, &m, T0 + n);
		if (i + 1 == n)
			assert_true(lp_cam_is_lan(&cam, &m, T0 + n));
	}
	assert_true(live <= LP_CAM_LAN_SETS * LP_CAM_LAN_WAYS);
	assert_true(live > LP_CAM_LAN_SETS * LP_CAM_LAN_WAYS / 2);
	assert_int_equal(cam.lan_evicted, n - live);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_layout),
		cmocka_unit_test(test_add_due_immediately_then_interval),
		cmocka_unit_test(test_touch_postpones_and_seeds),
		cmocka_unit_test(test_remove),
		cmocka_unit_test(test_refused_macs),
		cmocka_unit_test(test_bounded_and_partial_collect),
		cmocka_unit_test(test_lan_mac_refused_from_room),
		cmocka_unit_test(test_lan_seen_takes_mac_back),
		cmocka_unit_test(test_lan_aging_and_ignored),
		cmocka_unit_test(test_lan_table_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
