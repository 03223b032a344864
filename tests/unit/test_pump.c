/*
 * test_pump.c - the frame pump of lib/client-core against a scripted fake
 * device: drop accounting both ways, the TAP error policy (a run of failed
 * reads is a dead device, failures with frames or EAGAIN between them are
 * not), the status period and the address poll. No runner: frames for the
 * session are dropped as not_ready, which is what a pump without a
 * session must do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "lp_client.h"
#include "lp_loop.h"

#define SCRIPT_MAX 64

/* What the next reads return: a frame length (> 0) or an LP_ERR_*. */
struct fake_dev {
	ssize_t reads[SCRIPT_MAX];
	size_t nreads, at;
	ssize_t write_rc; /* 0: accept (returns len) */
	unsigned writes;
	char addr[32];
	unsigned status, dead;
	int dead_err;
};

static ssize_t dev_read(void *dev, uint8_t *buf, size_t cap)
{
	struct fake_dev *d = dev;
	ssize_t n;

	if (d->at >= d->nreads)
		return LP_ERR_AGAIN;
	n = d->reads[d->at++];
	if (n > 0) {
		assert_true((size_t)n <= cap);
		memset(buf, 0, (size_t)n);
		buf[0] = 0x02; /* a unicast destination */
	}
	return n;
}

static ssize_t dev_write(void *dev, const uint8_t *frame, size_t len)
{
	struct fake_dev *d = dev;

	(void)frame;
	d->writes++;
	return d->write_rc != 0 ? d->write_rc : (ssize_t)len;
}

static int dev_ipv4(void *dev, char *out, size_t cap)
{
	struct fake_dev *d = dev;

	snprintf(out, cap, "%s", d->addr);
	return 0;
}

static const struct lp_pump_dev_ops fake_ops = { .read = dev_read,
	                                         .write = dev_write,
	                                         .ipv4 = dev_ipv4 };

static void on_status(void *user)
{
	((struct fake_dev *)user)->status++;
}

static void on_dead(void *user, int err)
{
	struct fake_dev *d = user;

	d->dead++;
	d->dead_err = err;
}

static const struct lp_pump_cbs cbs = { .status = on_status, .dead = on_dead };

struct env {
	struct lp_loop *loop;
	struct lp_pump *p;
	struct fake_dev d;
	int efd; /* the watched source: never readable, the tests drive the pump */
};

static void env_init(struct env *e, uint64_t status_ns, uint64_t addr_ns)
{
	struct lp_pump_cfg cfg = { .status_interval_ns = status_ns, .addr_poll_ns = addr_ns };

	memset(e, 0, sizeof(*e));
	assert_int_equal(lp_loop_new(&e->loop), 0);
	assert_int_equal(lp_pump_new(e->loop, &cfg, &cbs, &e->d, NULL, &e->p), 0);
	e->efd = eventfd(0, EFD_NONBLOCK);
	assert_true(e->efd >= 0);
}

static void env_free(struct env *e)
{
	lp_pump_del(e->p);
	lp_loop_del(e->loop);
	close(e->efd);
}

static void script(struct fake_dev *d, const ssize_t *r, size_t n)
{
	memcpy(d->reads, r, n * sizeof(*r));
	d->nreads = n;
	d->at = 0;
}

static void test_frames_and_drops(void **state)
{
	const ssize_t reads[] = { 60, LP_ERR_TRUNCATED, 1514, LP_ERR_AGAIN, 60 };
	struct env e;
	uint8_t f[64] = { 0x02 };

	(void)state;
	env_init(&e, UINT64_MAX, 0);
	/* No device yet: the session's frames have nowhere to go. */
	lp_pump_from_relay(e.p, f, sizeof(f));
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_NOT_READY], 1);
	/* Attaching drains what the device queued, up to the first EAGAIN. */
	script(&e.d, reads, LP_ARRAY_LEN(reads));
	assert_int_equal(lp_pump_attach(e.p, &fake_ops, &e.d, e.efd, "tap-test"), 0);
	assert_int_equal(e.d.at, 4);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_TRUNCATED], 1);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_NOT_READY], 3); /* no runner: 2 more */
	assert_int_equal(lp_pump_attach(e.p, &fake_ops, &e.d, e.efd, "tap-test"), LP_ERR_INVAL);
	/* Session -> device: written; a full queue and an error are drops. */
	lp_pump_from_relay(e.p, f, sizeof(f));
	assert_int_equal(e.d.writes, 1);
	e.d.write_rc = LP_ERR_AGAIN;
	lp_pump_from_relay(e.p, f, sizeof(f));
	e.d.write_rc = LP_ERR_IO;
	lp_pump_from_relay(e.p, f, sizeof(f));
	assert_int_equal(e.d.writes, 3);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_QUEUE_FULL], 1);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_IO], 1);
	/* Without a runner the session half refuses too, counted once. */
	assert_int_equal(lp_pump_to_relay(e.p, f, sizeof(f), false), LP_DROP_NOT_READY);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_NOT_READY], 4);
	lp_pump_detach(e.p);
	lp_pump_from_relay(e.p, f, sizeof(f));
	assert_int_equal(e.d.writes, 3);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_NOT_READY], 5);
	env_free(&e);
}

/* LP_PUMP_DEAD_READS failures in a row: the device is gone, once. */
static void test_dead_device(void **state)
{
	ssize_t reads[SCRIPT_MAX];
	struct env e;
	uint8_t f[64] = { 0x02 };
	size_t i;

	(void)state;
	env_init(&e, UINT64_MAX, 0);
	for (i = 0; i < SCRIPT_MAX; i++)
		reads[i] = LP_ERR_IO;
	script(&e.d, reads, SCRIPT_MAX);
	assert_int_equal(lp_pump_attach(e.p, &fake_ops, &e.d, e.efd, "tap-test"), 0);
	assert_int_equal(e.d.dead, 1);
	assert_int_equal(e.d.dead_err, LP_ERR_IO);
	assert_int_equal(e.d.at, LP_PUMP_DEAD_READS);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_IO], LP_PUMP_DEAD_READS);
	/* Let go of: no more writes, and it can be attached again. */
	lp_pump_from_relay(e.p, f, sizeof(f));
	assert_int_equal(e.d.writes, 0);
	assert_int_equal(lp_pump_attach(e.p, &fake_ops, &e.d, e.efd, "tap-test"), 0);
	lp_pump_detach(e.p);
	env_free(&e);
}

/* Failures with a frame or an EAGAIN between them are transient. */
static void test_transient_errors(void **state)
{
	ssize_t reads[SCRIPT_MAX];
	struct env e;
	size_t i, n = 0;

	(void)state;
	env_init(&e, UINT64_MAX, 0);
	for (i = 0; i < LP_PUMP_DEAD_READS - 1; i++)
		reads[n++] = LP_ERR_IO;
	reads[n++] = 60;
	for (i = 0; i < LP_PUMP_DEAD_READS - 1; i++)
		reads[n++] = LP_ERR_IO;
	script(&e.d, reads, n);
	assert_int_equal(lp_pump_attach(e.p, &fake_ops, &e.d, e.efd, "tap-test"), 0);
	assert_int_equal(e.d.at, n); /* then EAGAIN: the script ran out */
	assert_int_equal(e.d.dead, 0);
	assert_int_equal(lp_pump_drops(e.p)[LP_DROP_IO], 2 * (LP_PUMP_DEAD_READS - 1));
	/* The count restarted at the EAGAIN: seven more are still not eight. */
	script(&e.d, reads, LP_PUMP_DEAD_READS - 1);
	lp_pump_detach(e.p);
	assert_int_equal(lp_pump_attach(e.p, &fake_ops, &e.d, e.efd, "tap-test"), 0);
	assert_int_equal(e.d.dead, 0);
	env_free(&e);
}

static void run_for(struct env *e, uint64_t ns)
{
	uint64_t end = lp_now_ns() + ns;

	while (lp_now_ns() < end)
		assert_true(lp_loop_run_once(e->loop, end - lp_now_ns()) >= 0);
}

/* The status period fires and re-arms; the address poll reports a change once. */
static void test_timers(void **state)
{
	struct env e;
	unsigned before;

	(void)state;
	env_init(&e, 5 * LP_NS_PER_MS, 2 * LP_NS_PER_MS);
	run_for(&e, 30 * LP_NS_PER_MS);
	assert_true(e.d.status >= 2); /* periodic, not one-shot */
	lp_pump_stop_timers(e.p);
	before = e.d.status;
	run_for(&e, 15 * LP_NS_PER_MS);
	assert_int_equal(e.d.status, before);

	assert_int_equal(lp_pump_attach(e.p, &fake_ops, &e.d, e.efd, "tap-test"), 0);
	run_for(&e, 10 * LP_NS_PER_MS);
	assert_int_equal(e.d.status, before); /* still no address: nothing to say */
	snprintf(e.d.addr, sizeof(e.d.addr), "10.77.0.123");
	run_for(&e, 10 * LP_NS_PER_MS);
	assert_int_equal(e.d.status, before + 1);
	run_for(&e, 10 * LP_NS_PER_MS);
	assert_int_equal(e.d.status, before + 1); /* unchanged: no new line */
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_and_drops),
		cmocka_unit_test(test_dead_device),
		cmocka_unit_test(test_transient_errors),
		cmocka_unit_test(test_timers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
