/*
 * test_boot.c - the one startup order of src/common/boot.c, driven with
 * fake hooks: the usage exits, and (as root, in a child process, since the
 * drop cannot be undone) that the devices are opened as root, that the
 * drop comes before the binary's start, and that the runner's first
 * CONNECTING event - emitted before it opens its socket, so before the
 * first network byte - already runs without root and with only the kept
 * capability. The relay address is a loopback port nobody serves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "boot.h"
#include "privdrop.h"

static int rec_fd = -1; /* the child's write end of the record pipe */

static uint32_t caps_effective(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0)
		return UINT32_MAX;
	return data[0].effective;
}

/* One line per step: "<step> <euid> <CapEff>". */
static void record(const char *step)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%s %u %#x\n", step, (unsigned)geteuid(),
	                 (unsigned)caps_effective());

	if (rec_fd >= 0 && n > 0)
		(void)!write(rec_fd, line, (size_t)n);
}

static int on_open(struct lp_boot *b)
{
	(void)b;
	record("open");
	return 0;
}

static int on_start(struct lp_boot *b)
{
	(void)b;
	record("start");
	return 0;
}

static void on_welcome(struct lp_boot *b, struct lp_client *s, const struct lp_client_event *ev)
{
	(void)b;
	(void)s;
	(void)ev;
	record("welcome");
}

static void on_event(struct lp_boot *b, struct lp_client *s, const struct lp_client_event *ev)
{
	(void)b;
	(void)s;
	if (ev->type != LP_CLIENT_EV_CONNECTING)
		return;
	record("connecting");
	/* Enough seen: a stop request ends the run as a user's would. */
	raise(SIGTERM);
}

static void on_status(struct lp_boot *b)
{
	(void)b;
}

static const struct lp_boot_peer peer = {
	.role = LP_ROLE_CLIENT,
	.keep = LP_PRIVDROP_KEEP_NET_ADMIN,
	.open = on_open,
	.start = on_start,
	.session = { .welcome = on_welcome, .event = on_event, .status = on_status },
};

static const struct lp_cli_opt opts[] = {
	LP_PEER_CLI_OPTS("room"),
	LP_PEER_CLI_IDENTITY_OPTS("x", ""),
	{ LP_PEER_OPT_USER, "user", "USER", NULL, false, "user" },
};

static const struct lp_boot_app app = {
	LP_BOOT_CLI("test-boot", "Tests the startup order.", opts, NULL, NULL, NULL),
	.peer = &peer,
};

static int boot(int argc, char **argv)
{
	return lp_boot_main(&app, argc, argv);
}

static void test_usage(void **state)
{
	char *bad[] = { "test-boot", "--room", "R", NULL };
	char *ip[] = { "test-boot", "--relay", "127.0.0.1", "--room", "R", NULL };
	char *help[] = { "test-boot", "--version", NULL };

	(void)state;
	assert_int_equal(boot(3, bad), LP_CLI_EXIT_USAGE); /* --relay missing */
	assert_int_equal(boot(5, ip), LP_CLI_EXIT_USAGE);  /* an IP needs --server-name */
	assert_int_equal(boot(2, help), LP_CLI_EXIT_OK);
}

static void test_order_and_privileges(void **state)
{
	char *argv[] = { "test-boot",
		         "--relay",
		         "127.0.0.1:9",
		         "--server-name",
		         "relay.test",
		         "--room",
		         "R",
		         "--virtual-mac",
		         "02:00:00:00:00:01",
		         "--user",
		         "nobody",
		         "--log-level",
		         "error",
		         NULL };
	char buf[512] = "", step[4][16];
	unsigned uid[4], cap[4];
	int p[2], status, n, got;
	pid_t pid;

	(void)state;
	if (geteuid() != 0) {
		skip(); /* the drop needs root */
		return;
	}
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		rec_fd = p[1];
		_exit(boot((int)LP_ARRAY_LEN(argv) - 1, argv));
	}
	close(p[1]);
	for (got = 0; got < (int)sizeof(buf) - 1; got += n) {
		n = (int)read(p[0], buf + got, sizeof(buf) - 1 - (size_t)got);
		if (n <= 0)
			break;
	}
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), LP_CLI_EXIT_OK); /* stopped by SIGTERM */
	n = sscanf(buf, "%15s %u %x %15s %u %x %15s %u %x", step[0], &uid[0], &cap[0], step[1],
	           &uid[1], &cap[1], step[2], &uid[2], &cap[2]);
	assert_int_equal(n, 9);
	/* Devices are opened as root, with its capabilities. */
	assert_string_equal(step[0], "open");
	assert_int_equal(uid[0], 0);
	assert_true((cap[0] & (1u << CAP_NET_ADMIN)) != 0);
	assert_true((cap[0] & (1u << CAP_SETUID)) != 0);
	/* Then the drop: the binary starts, and the runner connects, without root. */
	assert_string_equal(step[1], "start");
	assert_string_equal(step[2], "connecting");
	assert_true(uid[1] != 0 && uid[2] != 0);
	assert_int_equal(cap[1], 1u << CAP_NET_ADMIN);
	assert_int_equal(cap[2], 1u << CAP_NET_ADMIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_order_and_privileges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
