/*
 * test_relay_privdrop.c - the real lanparty-relay gives up its privileges
 * after binding and before serving: /proc/PID/status of the running relay
 * shows no capability in any set, NoNewPrivs, and (started as root) the
 * uid/gid of --user in every slot; it still admits peers afterwards; a
 * --user that does not exist stops it at start with a clear message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relay_proc.h"

#define SEC LP_NS_PER_SEC

/* The text after "field:" in /proc/pid/status, whitespace collapsed to
 * single spaces; "" when absent. */
static void status_field(pid_t pid, const char *field, char *out, size_t cap)
{
	char path[64], line[512];
	size_t flen = strlen(field);
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = 0;

		if (strncmp(line, field, flen) != 0 || line[flen] != ':')
			continue;
		for (const char *p = line + flen + 1; *p != '\0' && n + 1 < cap; p++) {
			if (*p == '\t' || *p == ' ' || *p == '\n') {
				if (n > 0 && out[n - 1] != ' ')
					out[n++] = ' ';
				continue;
			}
			out[n++] = *p;
		}
		while (n > 0 && out[n - 1] == ' ')
			n--;
		out[n] = '\0';
		break;
	}
	fclose(f);
}

static void check_dropped(pid_t pid, uid_t uid, gid_t gid)
{
	static const char *const caps[] = { "CapInh", "CapPrm", "CapEff", "CapAmb" };
	char v[128], want[128];

	for (size_t i = 0; i < LP_ARRAY_LEN(caps); i++) {
		status_field(pid, caps[i], v, sizeof(v));
		print_message("%s: %s\n", caps[i], v);
		assert_string_equal(v, "0000000000000000");
	}
	status_field(pid, "NoNewPrivs", v, sizeof(v));
	assert_string_equal(v, "1");
	snprintf(want, sizeof(want), "%u %u %u %u", (unsigned)uid, (unsigned)uid, (unsigned)uid,
	         (unsigned)uid);
	status_field(pid, "Uid", v, sizeof(v));
	print_message("Uid: %s\n", v);
	assert_string_equal(v, want);
	snprintf(want, sizeof(want), "%u %u %u %u", (unsigned)gid, (unsigned)gid, (unsigned)gid,
	         (unsigned)gid);
	status_field(pid, "Gid", v, sizeof(v));
	assert_string_equal(v, want);
	if (geteuid() == 0) {
		snprintf(want, sizeof(want), "%u", (unsigned)gid);
		status_field(pid, "Groups", v, sizeof(v));
		assert_string_equal(v, want);
	}
}

static void run_as(const char *user)
{
	const char *args[] = { "--user", user, NULL };
	struct rp_relay relay;
	struct rp_world w;
	struct rp_peer *c;
	uid_t uid = getuid();
	gid_t gid = getgid();

	if (geteuid() == 0) {
		struct passwd *pw = getpwnam(user);

		if (pw == NULL)
			skip();
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	assert_int_equal(rp_relay_start(&relay, args), 0);
	/* rp_relay_start returns once the metrics port answers: the drop
	 * happens right after, before the loop runs. Admitting a peer proves
	 * the loop runs, hence the drop is done. */
	assert_int_equal(rp_world_init(&w, &relay), 0);
	c = rp_session_new(&w, "C", LP_ROLE_CLIENT, "PRIV", "02:00:00:00:9d:01", NULL);
	assert_non_null(c);
	assert_true(rp_pump_admitted(&w, 20 * SEC, &c, 1));
	check_dropped(relay.pid, uid, gid);
	rp_world_free(&w);
	assert_int_equal(rp_relay_stop(&relay), 0);
}

static void test_default_user(void **state)
{
	(void)state;
	run_as("nobody");
}

static void test_other_user(void **state)
{
	(void)state;
	/* Debian's daemon user: another uid than nobody. */
	run_as("daemon");
}

static void test_unknown_user(void **state)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	const char *bin = getenv("LP_RELAY_BIN");
	char listen[32], out[4096] = "", dir[] = "/tmp/lp_privdrop.XXXXXX", key[64];
	int fd, pipefd[2], status = -1;
	uint64_t t0;
	ssize_t n;
	pid_t pid;

	(void)state;
	if (geteuid() != 0)
		skip(); /* not root: no user is looked up, only capabilities go */
	assert_non_null(bin);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	close(fd);
	snprintf(listen, sizeof(listen), "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
	/* Its own state directory: never the system's /var/lib. */
	assert_non_null(mkdtemp(dir));
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execl(bin, bin, "--listen", listen, "--state-dir", dir, "--user",
		      "lp-no-such-user-xyz", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	t0 = lp_now_ns();
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (lp_now_ns() - t0 > 10 * SEC) {
			kill(pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			fail_msg("the relay kept running with an unknown --user");
		}
		usleep(10000);
	}
	snprintf(key, sizeof(key), "%s/relay-dev-key.pem", dir);
	(void)unlink(key);
	(void)rmdir(dir);
	n = read(pipefd[0], out, sizeof(out) - 1);
	close(pipefd[0]);
	out[n > 0 ? n : 0] = '\0';
	print_message("%s", out);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
	assert_non_null(strstr(out, "cannot drop privileges to user 'lp-no-such-user-xyz'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_user),
		cmocka_unit_test(test_other_user),
		cmocka_unit_test(test_unknown_user),
	};

	return cmocka_run_group_tests_name("relay_privdrop", tests, NULL, NULL);
}
