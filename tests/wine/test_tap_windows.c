/*
 * test_tap_windows.c - lib/client-tap's Windows backend, run under Wine
 * (meson's exe_wrapper) or on Windows.
 *
 * No TAP-Windows6 driver exists here, so the test registers FAKE adapters
 * in the registry (class subkeys 0097..0103, removed at the end) and lets
 * lp_tap open named pipes instead of the device (lp_tap_config.device_path):
 * pipes it serves itself, to control message boundaries exactly, and
 * tests/wine/tap_pipe_server.exe, whose UDP relay end-to-end tests use.
 * On a real Windows machine it needs an administrator (HKLM writes) and
 * leaves real adapters alone (it only touches its own subkeys).
 *
 * Plain C with its own CHECK so it needs no cmocka for the Windows host.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lp_tap.h"

static int failures;
static int checks;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		checks++;                                                                          \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CHECK_RC(expr, want)                                                                       \
	do {                                                                                       \
		long long rc_ = (expr);                                                            \
		checks++;                                                                          \
		if (rc_ != (long long)(want)) {                                                    \
			fprintf(stderr, "%s:%d: %s = %lld (%s), want %lld\n", __FILE__, __LINE__,  \
			        #expr, rc_, rc_ < 0 ? lp_strerror((int)rc_) : "",                  \
			        (long long)(want));                                                \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

#define CLASS_KEY                                                                                  \
	"SYSTEM\\CurrentControlSet\\Control\\Class\\{4D36E972-E325-11CE-BFC1-08002BE10318}"
#define NETWORK_KEY                                                                                \
	"SYSTEM\\CurrentControlSet\\Control\\Network\\{4D36E972-E325-11CE-BFC1-08002BE10318}"

#define GUID_A "{3F1D8C6E-0A1B-4C2D-9E8F-112233445566}"
#define GUID_B "{A0B1C2D3-E4F5-4607-8899-AABBCCDDEEFF}"
#define GUID_C "{0C0FFEE0-1234-4ABC-8DEF-0123456789AB}"
#define GUID_DECOY "{DEC0DEC0-0000-4000-8000-000000000001}"

static const char *const our_subkeys[] = { "0097", "0098", "0099", "0100", "0101", "0102", "0103" };
static char lo_guid[64]; /* a real adapter's GUID, for lp_tap_ipv4 */
static const char *const our_guids[] = { GUID_A, GUID_B, GUID_C, GUID_DECOY, lo_guid };

static char pipe_a[80];
static unsigned pipe_seq;

/* ---- fake registry adapters ------------------------------------------------ */

static void set_sz(HKEY k, const char *name, const char *v)
{
	CHECK(RegSetValueExA(k, name, 0, REG_SZ, (const BYTE *)v, (DWORD)strlen(v) + 1) ==
	      ERROR_SUCCESS);
}

/* comp, guid, alias may be NULL: that value is left out. */
static void add_adapter(const char *sub, const char *comp, const char *guid, const char *alias)
{
	char path[256];
	HKEY k;

	snprintf(path, sizeof(path), CLASS_KEY "\\%s", sub);
	CHECK(RegCreateKeyExA(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &k,
	                      NULL) == ERROR_SUCCESS);
	if (comp != NULL)
		set_sz(k, "ComponentId", comp);
	if (guid != NULL)
		set_sz(k, "NetCfgInstanceId", guid);
	RegCloseKey(k);
	if (guid == NULL || alias == NULL)
		return;
	snprintf(path, sizeof(path), NETWORK_KEY "\\%s\\Connection", guid);
	CHECK(RegCreateKeyExA(HKEY_LOCAL_MACHINE, path, 0, NULL, 0, KEY_ALL_ACCESS, NULL, &k,
	                      NULL) == ERROR_SUCCESS);
	set_sz(k, "Name", alias);
	RegCloseKey(k);
}

static void remove_adapters(void)
{
	char path[256];

	for (size_t i = 0; i < LP_ARRAY_LEN(our_subkeys); i++) {
		snprintf(path, sizeof(path), CLASS_KEY "\\%s", our_subkeys[i]);
		RegDeleteTreeA(HKEY_LOCAL_MACHINE, path);
		RegDeleteKeyA(HKEY_LOCAL_MACHINE, path);
	}
	for (size_t i = 0; i < LP_ARRAY_LEN(our_guids); i++) {
		if (our_guids[i][0] == '\0')
			continue;
		snprintf(path, sizeof(path), NETWORK_KEY "\\%s", our_guids[i]);
		RegDeleteTreeA(HKEY_LOCAL_MACHINE, path);
		RegDeleteKeyA(HKEY_LOCAL_MACHINE, path);
	}
}

/* The NetworkAddress of class subkey sub; "" when absent, "?" when not REG_SZ. */
static void network_address(const char *sub, char *out, DWORD cap)
{
	char path[256];
	DWORD type = 0, size = cap;

	snprintf(path, sizeof(path), CLASS_KEY "\\%s", sub);
	out[0] = '\0';
	if (RegGetValueA(HKEY_LOCAL_MACHINE, path, "NetworkAddress", RRF_RT_ANY, &type, out,
	                 &size) != ERROR_SUCCESS)
		out[0] = '\0';
	else if (type != REG_SZ)
		snprintf(out, cap, "?");
}

/* ---- a pipe this process serves --------------------------------------------- */

static HANDLE serve_pipe(char *name, size_t cap)
{
	HANDLE h;

	snprintf(name, cap, "\\\\.\\pipe\\lanparty-tap-unit-%lu-%u",
	         (unsigned long)GetCurrentProcessId(), pipe_seq++);
	h = CreateNamedPipeA(name, PIPE_ACCESS_DUPLEX,
	                     PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT,
	                     PIPE_UNLIMITED_INSTANCES, 1 << 17, 1 << 17, 0, NULL);
	CHECK(h != INVALID_HANDLE_VALUE);
	return h;
}

static void srv_send(HANDLE srv, const uint8_t *p, DWORD len)
{
	DWORD n = 0;

	CHECK(WriteFile(srv, p, len, &n, NULL) && n == len);
}

/* One message from the client side, or -1 after 5 s without one. */
static long srv_recv(HANDLE srv, uint8_t *p, DWORD cap)
{
	DWORD avail = 0, n = 0;

	for (int i = 0; i < 500; i++) {
		if (PeekNamedPipe(srv, NULL, 0, NULL, &avail, NULL) && avail > 0)
			return ReadFile(srv, p, cap, &n, NULL) ? (long)n : -2;
		Sleep(10);
	}
	return -1;
}

static void fill(uint8_t *p, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

/* Waits for the loop handle, then reads one frame. */
static ssize_t wait_read(struct lp_tap *t, uint8_t *buf, size_t cap)
{
	HANDLE ev = (HANDLE)lp_tap_get_handle(t);

	if (WaitForSingleObject(ev, 5000) != WAIT_OBJECT_0)
		return -1000;
	return lp_tap_read(t, buf, cap);
}

/* ---- the tests --------------------------------------------------------------- */

static void test_no_adapter(void)
{
	struct lp_tap_config cfg = { .device_path = pipe_a };
	struct lp_tap_adapter list[4];
	struct lp_tap *t = (struct lp_tap *)1;
	size_t total = 99;
	int rc;

	/* A fresh prefix has no network adapter class key, a cleaned one no
	 * TAP adapter in it: both mean "install the driver". */
	rc = lp_tap_list(list, LP_ARRAY_LEN(list), &total);
	CHECK(rc == LP_ERR_NOT_FOUND || rc == 0);
	CHECK(total == 0);
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_NOT_FOUND);
	CHECK(t == NULL);
}

static void register_fakes(void)
{
	/* Not TAP, no GUID, a bad GUID: all skipped. */
	add_adapter("0097", "pci\\ven_8086&dev_100e", GUID_DECOY, "Ethernet");
	add_adapter("0098", "tap0901", NULL, NULL);
	add_adapter("0099", "tap0901", "{not-a-guid}", NULL);
	/* Created out of order: "first" is the lowest subkey. */
	add_adapter("0101", "ROOT\\TAP0901", GUID_B, "Ethernet 7");
	add_adapter("0100", "tap0901", GUID_A, "LAN Party TAP");
	add_adapter("0102", "tap0901", GUID_C, NULL);
	if (lo_guid[0] != '\0')
		add_adapter("0103", "tap0901", lo_guid, "Loopback TAP");
}

static void test_list(void)
{
	struct lp_tap_adapter list[8];
	size_t total = 0, want = lo_guid[0] != '\0' ? 4 : 3;

	CHECK_RC(lp_tap_list(list, LP_ARRAY_LEN(list), &total), 0);
	CHECK(total == want);
	CHECK(strcmp(list[0].name, "LAN Party TAP") == 0 && strcmp(list[0].id, GUID_A) == 0);
	CHECK(strcmp(list[1].name, "Ethernet 7") == 0 && strcmp(list[1].id, GUID_B) == 0);
	CHECK(strcmp(list[2].name, "") == 0 && strcmp(list[2].id, GUID_C) == 0);

	/* Fewer slots than adapters: the total still says how many. */
	memset(list, 0x5a, sizeof(list));
	CHECK_RC(lp_tap_list(list, 1, &total), 0);
	CHECK(total == want);
	CHECK(strcmp(list[0].id, GUID_A) == 0);
	CHECK(list[1].id[0] == 0x5a);
	CHECK_RC(lp_tap_list(NULL, 0, &total), 0);
	CHECK(total == want);
}

static void test_frames(struct lp_tap *t, HANDLE srv)
{
	static uint8_t f[70000], got[70000];
	HANDLE ev = (HANDLE)lp_tap_get_handle(t);

	/* Nothing waiting: the event is clear and read says AGAIN. */
	CHECK(WaitForSingleObject(ev, 0) == WAIT_TIMEOUT);
	CHECK_RC(lp_tap_read(t, got, sizeof(got)), LP_ERR_AGAIN);

	fill(f, 60, 1);
	srv_send(srv, f, 60);
	CHECK_RC(wait_read(t, got, sizeof(got)), 60);
	CHECK(memcmp(got, f, 60) == 0);
	/* The next read is already in flight: no spurious wake-up. */
	CHECK(WaitForSingleObject(ev, 0) == WAIT_TIMEOUT);
	CHECK_RC(lp_tap_read(t, got, sizeof(got)), LP_ERR_AGAIN);

	/* Back to back: each read one whole frame, in order. */
	fill(f, 1514, 2);
	srv_send(srv, f, 1514);
	fill(f + 2000, 64, 3);
	srv_send(srv, f + 2000, 64);
	CHECK_RC(wait_read(t, got, sizeof(got)), 1514);
	CHECK(memcmp(got, f, 1514) == 0);
	CHECK_RC(wait_read(t, got, sizeof(got)), 64);
	CHECK(memcmp(got, f + 2000, 64) == 0);

	/* Too big for the caller, too big for the backend's buffer: each
	 * frame lost whole, the next one intact. */
	fill(f, 1000, 4);
	srv_send(srv, f, 1000);
	CHECK_RC(wait_read(t, got, 100), LP_ERR_TRUNCATED);
	fill(f, 70000, 5);
	srv_send(srv, f, 70000);
	CHECK_RC(wait_read(t, got, sizeof(got)), LP_ERR_TRUNCATED);
	fill(f, 42, 6);
	srv_send(srv, f, 42);
	CHECK_RC(wait_read(t, got, sizeof(got)), 42);
	CHECK(memcmp(got, f, 42) == 0);

	/* Writes arrive as one message each. */
	fill(f, 60, 7);
	CHECK_RC(lp_tap_write(t, f, 60), 60);
	CHECK_RC(srv_recv(srv, got, sizeof(got)), 60);
	CHECK(memcmp(got, f, 60) == 0);
	CHECK_RC(lp_tap_write(t, f, LP_ETH_HDR_LEN - 1), LP_ERR_INVAL);
	CHECK_RC(lp_tap_write(t, f, 70000), LP_ERR_IO);
	for (uint8_t i = 0; i < 20; i++) {
		fill(f, 100, i);
		CHECK_RC(lp_tap_write(t, f, 100), 100);
	}
	for (uint8_t i = 0; i < 20; i++) {
		fill(f, 100, i);
		CHECK_RC(srv_recv(srv, got, sizeof(got)), 100);
		CHECK(memcmp(got, f, 100) == 0);
	}
}

static void test_open_default(void)
{
	struct lp_mac mac = { { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee } };
	struct lp_tap_config cfg = { .name = NULL, .mac = &mac, .mtu = 1400 };
	struct lp_tap_info info;
	struct lp_tap *t = NULL;
	char text[64];
	uint8_t buf[64];
	HANDLE srv;

	srv = serve_pipe(pipe_a, sizeof(pipe_a));
	cfg.device_path = pipe_a;
	CHECK_RC(lp_tap_open(&cfg, &t), 0);
	if (t == NULL)
		goto out;
	network_address("0100", text, sizeof(text));
	CHECK(strcmp(text, "02AABBCCDDEE") == 0);
	network_address("0101", text, sizeof(text));
	CHECK(strcmp(text, "") == 0);

	/* A pipe answers no driver IOCTL; what the registry gave is there. */
	memset(&info, 0x5a, sizeof(info));
	CHECK_RC(lp_tap_get_info(t, &info), LP_ERR_UNSUPPORTED);
	CHECK(strcmp(info.name, "LAN Party TAP") == 0);
	CHECK(strcmp(info.id, GUID_A) == 0);
	CHECK(info.ifindex == 0 && info.mtu == 0 && !info.up);
	CHECK(lp_proto_mac_is_zero(&info.mac));
	CHECK_RC(lp_tap_set_up(t, true), LP_ERR_UNSUPPORTED);
	CHECK_RC(lp_tap_set_up(t, false), LP_ERR_UNSUPPORTED);
	CHECK_RC(lp_tap_set_mtu(t, 1400), LP_ERR_UNSUPPORTED);
	CHECK_RC(lp_tap_set_mtu(t, 1279), LP_ERR_MTU_RANGE);
	/* Not an adapter GetAdaptersAddresses knows: no address yet. */
	strcpy(text, "x");
	CHECK_RC(lp_tap_ipv4(t, text, sizeof(text)), 0);
	CHECK(text[0] == '\0');
	CHECK_RC(lp_tap_ipv4(t, text, 0), LP_ERR_NOBUF);

	test_frames(t, srv);

	/* The other end goes away: the loop wakes up, and the error sticks. */
	DisconnectNamedPipe(srv);
	CHECK_RC(wait_read(t, buf, sizeof(buf)), LP_ERR_IO);
	CHECK_RC(wait_read(t, buf, sizeof(buf)), LP_ERR_IO);
out:
	lp_tap_close(t);
	CloseHandle(srv);
}

/* Opens by name; the info must name guid / alias. */
static void open_by(const char *name, const struct lp_mac *mac, const char *want_guid,
                    const char *want_alias)
{
	struct lp_tap_config cfg = { .name = name, .mac = mac };
	struct lp_tap_info info;
	struct lp_tap *t = NULL;
	char path[80];
	HANDLE srv = serve_pipe(path, sizeof(path));

	cfg.device_path = path;
	CHECK_RC(lp_tap_open(&cfg, &t), 0);
	if (t != NULL) {
		CHECK_RC(lp_tap_get_info(t, &info), LP_ERR_UNSUPPORTED);
		CHECK(strcmp(info.id, want_guid) == 0);
		CHECK(strcmp(info.name, want_alias) == 0);
		if (strcmp(info.id, want_guid) != 0)
			fprintf(stderr, "  open_by(%s) got %s\n", name, info.id);
	}
	lp_tap_close(t);
	CloseHandle(srv);
}

static void test_open_by_name(void)
{
	struct lp_mac m2 = { { 0x06, 0x01, 0x02, 0x03, 0x0a, 0xff } };
	struct lp_mac group = { { 0x03, 0x01, 0x02, 0x03, 0x04, 0x05 } };
	struct lp_tap_config cfg = { 0 };
	struct lp_tap *t = NULL;
	char text[64], path[80];
	HANDLE srv;

	open_by("a0b1c2d3-e4f5-4607-8899-aabbccddeeff", &m2, GUID_B, "Ethernet 7");
	network_address("0101", text, sizeof(text));
	CHECK(strcmp(text, "060102030AFF") == 0);
	network_address("0100", text, sizeof(text));
	CHECK(strcmp(text, "02AABBCCDDEE") == 0);
	open_by("ethernet 7", NULL, GUID_B, "Ethernet 7");
	open_by(GUID_A, NULL, GUID_A, "LAN Party TAP");
	open_by("{0c0ffee0-1234-4abc-8def-0123456789ab}", NULL, GUID_C, "");
	/* Decoys are not TAP adapters, whatever their names. */
	srv = serve_pipe(path, sizeof(path));
	cfg.device_path = path;
	cfg.name = "Ethernet";
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_NOT_FOUND);
	cfg.name = GUID_DECOY;
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_NOT_FOUND);
	cfg.name = "{not-a-guid}";
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_NOT_FOUND);
	cfg.name = "LAN Party";
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_NOT_FOUND);
	/* Refused before anything is written. */
	cfg.name = GUID_A;
	cfg.mac = &group;
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_INVAL);
	network_address("0100", text, sizeof(text));
	CHECK(strcmp(text, "02AABBCCDDEE") == 0);
	cfg.mac = NULL;
	cfg.mtu = 100;
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_MTU_RANGE);
	cfg.mtu = 0;
	/* The adapter exists but its device does not (disabled; or no driver
	 * at all, as under Wine). */
	cfg.device_path = "\\\\.\\pipe\\lanparty-tap-nobody-listens";
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_NOT_FOUND);
	cfg.device_path = NULL;
	CHECK_RC(lp_tap_open(&cfg, &t), LP_ERR_NOT_FOUND);
	CHECK(t == NULL);
	CloseHandle(srv);
}

/* A real adapter's GUID and first IPv4 address, as GetAdaptersAddresses
 * (asked here independently) lists them. */
static void find_ipv4_adapter(char *addr, size_t cap, unsigned *ifindex)
{
	ULONG size = 65536;
	IP_ADAPTER_ADDRESSES *list = malloc(size);

	addr[0] = '\0';
	if (list == NULL || GetAdaptersAddresses(AF_INET, 0, NULL, list, &size) != NO_ERROR)
		goto out;
	for (IP_ADAPTER_ADDRESSES *a = list; a != NULL; a = a->Next) {
		struct sockaddr_in sin;

		if (a->FirstUnicastAddress == NULL || strlen(a->AdapterName) != 38)
			continue;
		memcpy(&sin, a->FirstUnicastAddress->Address.lpSockaddr, sizeof(sin));
		inet_ntop(AF_INET, &sin.sin_addr, addr, cap);
		snprintf(lo_guid, sizeof(lo_guid), "%s", a->AdapterName);
		*ifindex = a->IfIndex;
		break;
	}
out:
	free(list);
}

static void test_ipv4(const char *want, unsigned want_index)
{
	struct lp_tap_config cfg = { .name = lo_guid };
	struct lp_tap_info info;
	struct lp_tap *t = NULL;
	char path[80], text[32];
	HANDLE srv = serve_pipe(path, sizeof(path));

	cfg.device_path = path;
	CHECK_RC(lp_tap_open(&cfg, &t), 0);
	if (t == NULL)
		goto out;
	CHECK_RC(lp_tap_ipv4(t, text, sizeof(text)), 0);
	CHECK(strcmp(text, want) == 0);
	CHECK_RC(lp_tap_ipv4(t, text, strlen(want)), LP_ERR_NOBUF);
	CHECK(text[0] == '\0');
	CHECK_RC(lp_tap_get_info(t, &info), LP_ERR_UNSUPPORTED);
	CHECK(info.ifindex == want_index && info.ifindex != 0);
	CHECK(strcmp(info.name, "Loopback TAP") == 0);
out:
	lp_tap_close(t);
	CloseHandle(srv);
}

/* tests/wine/tap_pipe_server.exe relays frames to and from UDP. */
static void test_pipe_server(const char *exe)
{
	struct lp_tap_config cfg = { .name = GUID_B };
	static uint8_t f[1514], got[2048];
	struct sockaddr_in me, srv_addr;
	int len = sizeof(me), n = -1;
	char cmd[600], path[80];
	PROCESS_INFORMATION pi;
	STARTUPINFOA si;
	struct lp_tap *t = NULL;
	DWORD timeout = 10000, code = 99;
	SOCKET s;

	memset(&pi, 0, sizeof(pi));
	s = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	CHECK(s != INVALID_SOCKET);
	memset(&me, 0, sizeof(me));
	me.sin_family = AF_INET;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	CHECK(bind(s, (struct sockaddr *)&me, sizeof(me)) == 0);
	CHECK(getsockname(s, (struct sockaddr *)&me, &len) == 0);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, (const char *)&timeout, sizeof(timeout));

	snprintf(path, sizeof(path), "\\\\.\\pipe\\lanparty-tap-test-%lu",
	         (unsigned long)GetCurrentProcessId());
	snprintf(cmd, sizeof(cmd), "\"%s\" --pipe %s --peer %u --once", exe, path,
	         ntohs(me.sin_port));
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	if (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
		fprintf(stderr, "cannot start %s: error %lu\n", exe, (unsigned long)GetLastError());
		CHECK(0);
		goto out;
	}
	/* Its hello (zero-length) says the pipe is ready and where it listens. */
	len = sizeof(srv_addr);
	n = recvfrom(s, (char *)got, sizeof(got), 0, (struct sockaddr *)&srv_addr, &len);
	CHECK(n == 0);
	if (n != 0)
		goto out;

	cfg.device_path = path;
	CHECK_RC(lp_tap_open(&cfg, &t), 0);
	if (t == NULL)
		goto out;
	/* Datagram -> frame. The server may see the datagram before it has
	 * noticed us connect, and then drops it: send again. */
	fill(f, 60, 9);
	n = -1;
	for (int i = 0; i < 10 && n < 0; i++) {
		HANDLE ev = (HANDLE)lp_tap_get_handle(t);

		sendto(s, (const char *)f, 60, 0, (struct sockaddr *)&srv_addr, sizeof(srv_addr));
		if (WaitForSingleObject(ev, 1000) == WAIT_OBJECT_0)
			n = (int)lp_tap_read(t, got, sizeof(got));
	}
	CHECK(n == 60);
	CHECK(memcmp(got, f, 60) == 0);
	/* Frame -> datagram. */
	fill(f, sizeof(f), 10);
	CHECK_RC(lp_tap_write(t, f, sizeof(f)), (long long)sizeof(f));
	do {
		n = recvfrom(s, (char *)got, sizeof(got), 0, NULL, NULL);
	} while (n == 0);
	CHECK(n == (int)sizeof(f));
	CHECK(memcmp(got, f, sizeof(f)) == 0);

	/* --once: our closing the pipe ends it, cleanly. */
	lp_tap_close(t);
	t = NULL;
	CHECK(WaitForSingleObject(pi.hProcess, 10000) == WAIT_OBJECT_0);
	CHECK(GetExitCodeProcess(pi.hProcess, &code) && code == 0);
out:
	lp_tap_close(t);
	if (pi.hProcess != NULL) {
		if (WaitForSingleObject(pi.hProcess, 0) != WAIT_OBJECT_0)
			TerminateProcess(pi.hProcess, 1);
		CloseHandle(pi.hProcess);
		CloseHandle(pi.hThread);
	}
	closesocket(s);
}

int main(void)
{
	char exe[MAX_PATH], *slash, want_ip[32];
	unsigned want_index = 0;
	size_t total = 99;
	WSADATA wsa;

	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
		return 1;
	if (GetModuleFileNameA(NULL, exe, sizeof(exe)) == 0 || (slash = strrchr(exe, '\\')) == NULL)
		return 1;
	snprintf(slash + 1, sizeof(exe) - (size_t)(slash + 1 - exe), "tap_pipe_server.exe");
	snprintf(pipe_a, sizeof(pipe_a), "\\\\.\\pipe\\lanparty-tap-unused");

	find_ipv4_adapter(want_ip, sizeof(want_ip), &want_index);
	remove_adapters(); /* leftovers of an aborted run */
	test_no_adapter();
	register_fakes();
	test_list();
	test_open_default();
	test_open_by_name();
	if (lo_guid[0] != '\0')
		test_ipv4(want_ip, want_index);
	else
		printf("SKIP lp_tap_ipv4: GetAdaptersAddresses lists no IPv4 adapter\n");
	test_pipe_server(exe);
	remove_adapters();
	CHECK_RC(lp_tap_list(NULL, 0, &total), 0);
	CHECK(total == 0);

	printf("%d checks, %d failures\n", checks, failures);
	WSACleanup();
	return failures == 0 ? 0 : 1;
}
