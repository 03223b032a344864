/*
 * Tests for src/common/resolve_child_linux.c: the record decoder refuses
 * every malformed answer, and a privileged process runs the lookup in a
 * child without root, capabilities or a way back (the lookup is a stand-in
 * that reports what it sees through a shared page).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "privdrop.h"
#include "resolve_child.h"

#define PORT 4433

/* ---- The record ------------------------------------------------------------ */

static void v4(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET, ip, &sin.sin_addr), 1);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin, sizeof(sin));
}

static void v6(struct sockaddr_storage *ss, const char *ip, uint16_t port)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET6, ip, &sin6.sin6_addr), 1);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &sin6, sizeof(sin6));
}

static void good_record(uint8_t rec[LP_RESOLVE_RECORD_LEN])
{
	struct sockaddr_storage a[2];

	v4(&a[0], "192.0.2.7", PORT);
	v6(&a[1], "2001:db8::7", PORT);
	lp_resolve_record_encode(0, a, 2, rec);
}

static void test_record_roundtrip(void **state)
{
	uint8_t rec[LP_RESOLVE_RECORD_LEN];
	struct sockaddr_storage in[2], out[4];
	size_t n = 99;

	(void)state;
	v4(&in[0], "192.0.2.7", PORT);
	v6(&in[1], "2001:db8::7", PORT);
	good_record(rec);
	assert_int_equal(lp_resolve_record_decode(rec, sizeof(rec), PORT, out, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(&out[0], &in[0], sizeof(struct sockaddr_in));
	assert_memory_equal(&out[1], &in[1], sizeof(struct sockaddr_in6));
	/* max bounds what is copied, the rest is still validated */
	assert_int_equal(lp_resolve_record_decode(rec, sizeof(rec), PORT, out, 1, &n), 0);
	assert_int_equal(n, 1);
	/* a failed lookup travels as its error */
	lp_resolve_record_encode(LP_ERR_RESOLVE_AGAIN, NULL, 0, rec);
	assert_int_equal(lp_resolve_record_decode(rec, sizeof(rec), PORT, out, 4, &n),
	                 LP_ERR_RESOLVE_AGAIN);
	assert_int_equal(n, 0);
	lp_resolve_record_encode(-12345, NULL, 0, rec);
	assert_int_equal(lp_resolve_record_decode(rec, sizeof(rec), PORT, out, 4, &n), LP_ERR_IO);
	/* success without an address is no success */
	lp_resolve_record_encode(0, in, 0, rec);
	assert_int_equal(lp_resolve_record_decode(rec, sizeof(rec), PORT, out, 4, &n),
	                 LP_ERR_RESOLVE_PERM);
}

/* Each mutation of a good record must be refused, *n left at 0. */
static void test_record_malformed(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
		int err;
	} bad[] = {
		{ 0, 2, LP_ERR_VERSION },          /* version */
		{ 1, 99, LP_ERR_FIELD_RANGE },     /* unknown status */
		{ 1, 1, LP_ERR_FIELD_RANGE },      /* an error with addresses */
		{ 2, 0, LP_ERR_FIELD_RANGE },      /* success without addresses */
		{ 2, 9, LP_ERR_FIELD_RANGE },      /* count above the entries */
		{ 2, 3, LP_ERR_FIELD_RANGE },      /* count past what is there (zero family) */
		{ 3, 1, LP_ERR_FIELD_RANGE },      /* header padding */
		{ 4, 5, LP_ERR_FIELD_RANGE },      /* family */
		{ 5, 1, LP_ERR_FIELD_RANGE },      /* entry padding */
		{ 7, 0x52, LP_ERR_FIELD_RANGE },   /* another port */
		{ 8, 1, LP_ERR_FIELD_RANGE },      /* a scope id on IPv4 */
		{ 4 + 12, 1, LP_ERR_FIELD_RANGE }, /* IPv4 bytes past the 4 */
		{ 4 + 48, 6, LP_ERR_FIELD_RANGE }, /* an entry past count */
		{ LP_RESOLVE_RECORD_LEN - 1, 1, LP_ERR_FIELD_RANGE }, /* last unused byte */
	};
	uint8_t rec[LP_RESOLVE_RECORD_LEN + 1];
	struct sockaddr_storage out[4];
	size_t n;

	(void)state;
	for (size_t i = 0; i < LP_ARRAY_LEN(bad); i++) {
		good_record(rec);
		rec[bad[i].off] = bad[i].val;
		n = 99;
		assert_int_equal(
		        lp_resolve_record_decode(rec, LP_RESOLVE_RECORD_LEN, PORT, out, 4, &n),
		        bad[i].err);
		assert_int_equal(n, 0);
	}
	good_record(rec);
	assert_int_equal(lp_resolve_record_decode(rec, LP_RESOLVE_RECORD_LEN, PORT + 1, out, 4, &n),
	                 LP_ERR_FIELD_RANGE);
	assert_int_equal(lp_resolve_record_decode(rec, LP_RESOLVE_RECORD_LEN - 1, PORT, out, 4, &n),
	                 LP_ERR_TRUNCATED);
	assert_int_equal(lp_resolve_record_decode(rec, 0, PORT, out, 4, &n), LP_ERR_TRUNCATED);
	rec[LP_RESOLVE_RECORD_LEN] = 0;
	assert_int_equal(lp_resolve_record_decode(rec, LP_RESOLVE_RECORD_LEN + 1, PORT, out, 4, &n),
	                 LP_ERR_TRAILING);
}

/* ---- The child --------------------------------------------------------------- */

/* What the stand-in lookup saw, written where the parent can read it. */
struct seen {
	int ran;
	pid_t pid;
	uid_t ruid, euid, suid;
	gid_t rgid, egid;
	uint64_t cap_eff, cap_prm;
	int no_new_privs;
};

static struct seen *seen; /* MAP_SHARED: survives the fork */

enum fake_mode { FAKE_OK, FAKE_WRONG_PORT, FAKE_DIE, FAKE_STOPPED, FAKE_FAIL };
static enum fake_mode mode;

static int fake_lookup(const struct lp_net_endpoint *ep, struct sockaddr_storage *out, size_t max,
                       size_t *n)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	gid_t sgid;

	assert_true(max >= 1);
	seen->ran = 1;
	seen->pid = getpid();
	(void)getresuid(&seen->ruid, &seen->euid, &seen->suid);
	(void)getresgid(&seen->rgid, &seen->egid, &sgid);
	if (syscall(SYS_capget, &hdr, data) == 0) {
		seen->cap_eff = (uint64_t)data[1].effective << 32 | data[0].effective;
		seen->cap_prm = (uint64_t)data[1].permitted << 32 | data[0].permitted;
	} else {
		seen->cap_eff = seen->cap_prm = UINT64_MAX;
	}
	seen->no_new_privs = prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L);
	switch (mode) {
	case FAKE_DIE:
		_exit(3);
	case FAKE_STOPPED:
		(void)kill(getpid(), SIGTERM);
		_exit(4); /* not reached: the child does not block SIGTERM */
	case FAKE_FAIL:
		return LP_ERR_RESOLVE_PERM;
	case FAKE_WRONG_PORT:
		v4(&out[0], "192.0.2.9", (uint16_t)(ep->port + 1));
		break;
	case FAKE_OK:
		v4(&out[0], "192.0.2.9", ep->port);
		break;
	}
	*n = 1;
	return 0;
}

static int setup(void **state)
{
	(void)state;
	seen = mmap(NULL, sizeof(*seen), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (seen == MAP_FAILED)
		return -1;
	memset(seen, 0, sizeof(*seen));
	mode = FAKE_OK;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap(seen, sizeof(*seen));
	return 0;
}

static const struct lp_net_endpoint relay_ep = { .host = "relay.example.org",
	                                         .port = PORT,
	                                         .kind = LP_NET_HOST_NAME };

/* The requirement: no DNS reply parsed as root. As root, the lookup runs
 * in another process, as nobody, with no capability and no new privileges. */
static void test_lookup_unprivileged(void **state)
{
	struct sockaddr_storage out[LP_RESOLVE_RECORD_ADDRS], want;
	size_t n = 0;

	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(lp_resolve_child(&relay_ep, "nobody", fake_lookup, NULL, out,
	                                  LP_ARRAY_LEN(out), &n),
	                 0);
	assert_int_equal(n, 1);
	v4(&want, "192.0.2.9", PORT);
	assert_memory_equal(&out[0], &want, sizeof(struct sockaddr_in));
	assert_true(seen->ran);
	assert_int_not_equal(seen->pid, getpid());
	assert_int_not_equal(seen->ruid, 0);
	assert_int_not_equal(seen->euid, 0);
	assert_int_not_equal(seen->suid, 0);
	assert_int_not_equal(seen->egid, 0);
	assert_int_equal(seen->cap_eff, 0);
	assert_int_equal(seen->cap_prm, 0);
	assert_int_equal(seen->no_new_privs, 1);
	/* the parent kept what it had */
	assert_int_equal(geteuid(), 0);
}

/* What the child answers is not believed: another port than asked, a
 * child that dies, a child that cannot drop all fail the lookup. */
static void test_child_answer_distrusted(void **state)
{
	struct sockaddr_storage out[2];
	sigset_t term, old;
	size_t n = 7;

	(void)state;
	if (geteuid() != 0)
		skip();
	mode = FAKE_WRONG_PORT;
	assert_int_equal(lp_resolve_child(&relay_ep, "nobody", fake_lookup, NULL, out, 2, &n),
	                 LP_ERR_IO);
	assert_int_equal(n, 0);
	mode = FAKE_DIE;
	assert_int_equal(lp_resolve_child(&relay_ep, "nobody", fake_lookup, NULL, out, 2, &n),
	                 LP_ERR_IO);
	/* A stop for the process group ends the child: try again (the
	 * caller's wait then sees the stop). The parent blocks SIGTERM as the
	 * daemons do (signalfd); the child must not inherit that. */
	mode = FAKE_STOPPED;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	assert_int_equal(sigprocmask(SIG_BLOCK, &term, &old), 0);
	assert_int_equal(lp_resolve_child(&relay_ep, "nobody", fake_lookup, NULL, out, 2, &n),
	                 LP_ERR_RESOLVE_AGAIN);
	assert_int_equal(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	mode = FAKE_FAIL;
	assert_int_equal(lp_resolve_child(&relay_ep, "nobody", fake_lookup, NULL, out, 2, &n),
	                 LP_ERR_RESOLVE_PERM);
	mode = FAKE_OK;
	seen->ran = 0;
	assert_int_equal(lp_resolve_child(&relay_ep, "root", fake_lookup, NULL, out, 2, &n),
	                 LP_ERR_PERM);
	assert_false(seen->ran);
	assert_int_equal(
	        lp_resolve_child(&relay_ep, "no-such-user-lp", fake_lookup, NULL, out, 2, &n),
	        LP_ERR_PERM);
	assert_false(seen->ran);
}

/* Unprivileged (after the drop, or a test run), the lookup stays in-process. */
static void test_unprivileged_in_process(void **state)
{
	struct sockaddr_storage out[2];
	pid_t pid;
	int status = -1;

	(void)state;
	pid = fork();
	if (pid == 0) {
		size_t n = 0;

		if (geteuid() == 0 && lp_privdrop("nobody", 0) != 0)
			_exit(10);
		if (lp_privdrop_privileged())
			_exit(11);
		if (lp_resolve_child(&relay_ep, NULL, fake_lookup, NULL, out, 2, &n) != 0 || n != 1)
			_exit(12);
		_exit(seen->pid == getpid() ? 0 : 13);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_record_malformed),
		cmocka_unit_test_setup_teardown(test_lookup_unprivileged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_answer_distrusted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged_in_process, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
