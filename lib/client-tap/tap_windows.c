/*
 * tap_windows.c - lp_tap on Windows: a TAP-Windows6 adapter through its
 * device \\.\Global\{GUID}.tap, overlapped reads and writes of whole frames
 * and the driver's IOCTLs (tap-windows.h of the tap-windows6 project).
 *
 * One read is always in flight into a buffer we own; its manual-reset event
 * is the loop's handle. Writes go through a few slots so a burst does not
 * wait for the driver to complete each one.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <winioctl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap_windows_int.h"

#define TAP_WIN_CONTROL_CODE(request)                                                              \
	CTL_CODE(FILE_DEVICE_UNKNOWN, request, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define TAP_WIN_IOCTL_GET_MAC TAP_WIN_CONTROL_CODE(1)
#define TAP_WIN_IOCTL_GET_MTU TAP_WIN_CONTROL_CODE(3)
#define TAP_WIN_IOCTL_SET_MEDIA_STATUS TAP_WIN_CONTROL_CODE(6)

/* Whole frames of any MTU we allow, with room for VLAN tags. */
#define FRAME_BUF 65536u
/* Writes the driver may hold at once before lp_tap_write says AGAIN. */
#define WRITE_SLOTS 8

struct wslot {
	OVERLAPPED ov;
	bool busy;
	uint8_t *buf;
};

struct lp_tap {
	HANDLE dev;
	HANDLE ioctl_ev;
	/* The read in flight: rd_ov.hEvent is what lp_tap_get_handle gives. */
	OVERLAPPED rd_ov;
	bool rd_armed;
	int rd_err; /* sticky; the event is left set so the loop sees it */
	uint8_t *rd_buf;
	struct wslot ws[WRITE_SLOTS];
	bool media; /* last SET_MEDIA_STATUS that succeeded */
	char name[LP_TAP_NAME_MAX];
	char guid[LP_TAP_WIN_GUID_LEN + 1];
};

static bool mtu_ok(uint32_t mtu)
{
	return mtu >= LP_MTU_MIN && mtu <= LP_MTU_MAX;
}

/*
 * DeviceIoControl on an overlapped handle needs its own OVERLAPPED; waiting
 * here is fine, the driver answers these from memory. A named pipe (the
 * test stand-in) rejects foreign control codes.
 */
static int tap_ioctl(const struct lp_tap *t, DWORD code, void *in, DWORD in_len, void *out,
                     DWORD out_len, DWORD *got)
{
	OVERLAPPED ov;
	DWORD n = 0, err;

	memset(&ov, 0, sizeof(ov));
	ov.hEvent = t->ioctl_ev;
	if (DeviceIoControl(t->dev, code, in, in_len, out, out_len, &n, &ov) ||
	    (GetLastError() == ERROR_IO_PENDING && GetOverlappedResult(t->dev, &ov, &n, TRUE))) {
		if (got != NULL)
			*got = n;
		return 0;
	}
	err = GetLastError();
	if (err == ERROR_INVALID_FUNCTION || err == ERROR_NOT_SUPPORTED)
		return LP_ERR_UNSUPPORTED;
	return lp_tap_win_err(err);
}

/* Starts the next read. Errors stick and keep the event set. */
static void arm_read(struct lp_tap *t)
{
	DWORD err;

	t->rd_armed = false;
	if (ReadFile(t->dev, t->rd_buf, FRAME_BUF, NULL, &t->rd_ov)) {
		t->rd_armed = true;
		return;
	}
	err = GetLastError();
	/* MORE_DATA: a pipe message larger than our buffer; collected as such. */
	if (err == ERROR_IO_PENDING || err == ERROR_MORE_DATA) {
		t->rd_armed = true;
		return;
	}
	t->rd_err = err == ERROR_NOT_ENOUGH_MEMORY ? LP_ERR_NOMEM : LP_ERR_IO;
	SetEvent(t->rd_ov.hEvent);
}

/* Reads and drops the rest of a message-mode pipe message. */
static int drain_message(struct lp_tap *t)
{
	DWORD n;

	for (;;) {
		if (ReadFile(t->dev, t->rd_buf, FRAME_BUF, NULL, &t->rd_ov) ||
		    (GetLastError() == ERROR_IO_PENDING &&
		     GetOverlappedResult(t->dev, &t->rd_ov, &n, TRUE)))
			return 0;
		if (GetLastError() != ERROR_MORE_DATA)
			return LP_ERR_IO;
	}
}

static int open_device(struct lp_tap *t, const char *path)
{
	DWORD mode = PIPE_READMODE_MESSAGE;

	/* As tap-windows' own clients open it (OpenVPN's tun.c). */
	t->dev = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
	                     FILE_ATTRIBUTE_SYSTEM | FILE_FLAG_OVERLAPPED, NULL);
	if (t->dev == INVALID_HANDLE_VALUE) {
		t->dev = NULL;
		return lp_tap_win_err(GetLastError());
	}
	/* A pipe client starts in byte mode, which would merge frames. */
	if (GetFileType(t->dev) == FILE_TYPE_PIPE &&
	    !SetNamedPipeHandleState(t->dev, &mode, NULL, NULL))
		return LP_ERR_IO;
	return 0;
}

static int alloc_io(struct lp_tap *t)
{
	t->ioctl_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
	t->rd_ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
	t->rd_buf = malloc(FRAME_BUF);
	if (t->ioctl_ev == NULL || t->rd_ov.hEvent == NULL || t->rd_buf == NULL)
		return LP_ERR_NOMEM;
	for (size_t i = 0; i < WRITE_SLOTS; i++) {
		t->ws[i].ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
		t->ws[i].buf = malloc(FRAME_BUF);
		if (t->ws[i].ov.hEvent == NULL || t->ws[i].buf == NULL)
			return LP_ERR_NOMEM;
	}
	return 0;
}

int lp_tap_open(const struct lp_tap_config *cfg, struct lp_tap **out)
{
	struct lp_tap_win_adapter a;
	struct lp_tap *t = NULL;
	char path[64];
	int rc;

	*out = NULL;
	if (cfg->mac != NULL && lp_proto_mac_validate_identity(cfg->mac) < 0)
		return LP_ERR_INVAL;
	if (cfg->mtu != 0 && !mtu_ok(cfg->mtu))
		return LP_ERR_MTU_RANGE;
	rc = lp_tap_win_find(cfg->name, &a);
	if (rc < 0)
		return rc;
	/* Before opening: the driver reads it when the adapter initialises. */
	if (cfg->mac != NULL) {
		rc = lp_tap_win_set_network_address(&a, cfg->mac);
		if (rc < 0)
			return rc;
	}
	if (snprintf(path, sizeof(path), "\\\\.\\Global\\%s.tap", a.guid) >= (int)sizeof(path))
		return LP_ERR_INVAL;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return LP_ERR_NOMEM;
	memcpy(t->name, a.name, sizeof(t->name));
	memcpy(t->guid, a.guid, sizeof(t->guid));
	rc = alloc_io(t);
	if (rc < 0)
		goto out;
	rc = open_device(t, cfg->device_path != NULL ? cfg->device_path : path);
	if (rc < 0)
		goto out;
	arm_read(t);
	if (t->rd_err != 0) {
		rc = t->rd_err;
		goto out;
	}
	*out = t;
	t = NULL;
	rc = 0;
out:
	lp_tap_close(t);
	return rc;
}

void lp_tap_close(struct lp_tap *t)
{
	DWORD n;

	if (t == NULL)
		return;
	if (t->dev != NULL) {
		/* The driver writes into our buffers until each request ends. */
		CancelIoEx(t->dev, NULL);
		if (t->rd_armed)
			GetOverlappedResult(t->dev, &t->rd_ov, &n, TRUE);
		for (size_t i = 0; i < WRITE_SLOTS; i++)
			if (t->ws[i].busy)
				GetOverlappedResult(t->dev, &t->ws[i].ov, &n, TRUE);
		CloseHandle(t->dev);
	}
	for (size_t i = 0; i < WRITE_SLOTS; i++) {
		if (t->ws[i].ov.hEvent != NULL)
			CloseHandle(t->ws[i].ov.hEvent);
		free(t->ws[i].buf);
	}
	if (t->rd_ov.hEvent != NULL)
		CloseHandle(t->rd_ov.hEvent);
	if (t->ioctl_ev != NULL)
		CloseHandle(t->ioctl_ev);
	free(t->rd_buf);
	free(t);
}

int lp_tap_set_up(struct lp_tap *t, bool up)
{
	ULONG status = up ? 1 : 0;
	int rc;

	rc = tap_ioctl(t, TAP_WIN_IOCTL_SET_MEDIA_STATUS, &status, sizeof(status), &status,
	               sizeof(status), NULL);
	if (rc == 0)
		t->media = up;
	return rc;
}

int lp_tap_set_mtu(struct lp_tap *t, uint32_t mtu)
{
	(void)t;
	if (!mtu_ok(mtu))
		return LP_ERR_MTU_RANGE;
	return LP_ERR_UNSUPPORTED;
}

ssize_t lp_tap_read(struct lp_tap *t, uint8_t *buf, size_t cap)
{
	DWORD n, err;

	for (;;) {
		if (t->rd_err != 0)
			return t->rd_err;
		if (!t->rd_armed)
			arm_read(t);
		if (t->rd_err != 0)
			return t->rd_err;
		if (!GetOverlappedResult(t->dev, &t->rd_ov, &n, FALSE)) {
			err = GetLastError();
			if (err == ERROR_IO_INCOMPLETE)
				return LP_ERR_AGAIN;
			t->rd_armed = false;
			if (err != ERROR_MORE_DATA) {
				t->rd_err = LP_ERR_IO;
				SetEvent(t->rd_ov.hEvent);
				return t->rd_err;
			}
			if (drain_message(t) < 0) {
				t->rd_err = LP_ERR_IO;
				SetEvent(t->rd_ov.hEvent);
				return t->rd_err;
			}
			arm_read(t);
			return LP_ERR_TRUNCATED;
		}
		t->rd_armed = false;
		/* No frame is empty; a zero-length pipe message carries nothing. */
		if (n == 0) {
			arm_read(t);
			continue;
		}
		if (n > cap) {
			arm_read(t);
			return LP_ERR_TRUNCATED;
		}
		memcpy(buf, t->rd_buf, n);
		arm_read(t);
		return (ssize_t)n;
	}
}

/* Frees the slots whose write completed. A write that failed late is a
 * frame lost like on any NIC: nothing to report to anyone. */
static struct wslot *free_slot(struct lp_tap *t)
{
	struct wslot *found = NULL;
	DWORD n;

	for (size_t i = 0; i < WRITE_SLOTS; i++) {
		struct wslot *s = &t->ws[i];

		if (s->busy && (GetOverlappedResult(t->dev, &s->ov, &n, FALSE) ||
		                GetLastError() != ERROR_IO_INCOMPLETE))
			s->busy = false;
		if (!s->busy && found == NULL)
			found = s;
	}
	return found;
}

ssize_t lp_tap_write(struct lp_tap *t, const uint8_t *frame, size_t len)
{
	struct wslot *s;
	DWORD err;

	if (len < LP_ETH_HDR_LEN)
		return LP_ERR_INVAL;
	if (len > FRAME_BUF)
		return LP_ERR_IO;
	s = free_slot(t);
	if (s == NULL)
		return LP_ERR_AGAIN;
	memcpy(s->buf, frame, len);
	if (WriteFile(t->dev, s->buf, (DWORD)len, NULL, &s->ov))
		return (ssize_t)len;
	err = GetLastError();
	if (err == ERROR_IO_PENDING) {
		s->busy = true;
		return (ssize_t)len;
	}
	if (err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_NO_SYSTEM_RESOURCES ||
	    err == ERROR_INVALID_USER_BUFFER)
		return LP_ERR_AGAIN;
	return LP_ERR_IO;
}

uint64_t lp_tap_flush(struct lp_tap *t)
{
	(void)t; /* every lp_tap_write went to the driver at once */
	return 0;
}

lp_tap_handle lp_tap_get_handle(const struct lp_tap *t)
{
	return (lp_tap_handle)t->rd_ov.hEvent;
}

/*
 * GetAdaptersAddresses, and in *hit the adapter whose AdapterName is guid
 * (NULL when not listed). The caller frees *list.
 */
static int find_adapter(const char *guid, IP_ADAPTER_ADDRESSES **list, IP_ADAPTER_ADDRESSES **hit)
{
	ULONG size = 16384, st = ERROR_BUFFER_OVERFLOW;

	*list = NULL;
	*hit = NULL;
	/* The table can grow between the size query and the call: retry. */
	for (int tries = 0; tries < 4 && st == ERROR_BUFFER_OVERFLOW; tries++) {
		free(*list);
		*list = malloc(size);
		if (*list == NULL)
			return LP_ERR_NOMEM;
		st = GetAdaptersAddresses(AF_UNSPEC,
		                          GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST |
		                                  GAA_FLAG_SKIP_DNS_SERVER,
		                          NULL, *list, &size);
	}
	if (st == ERROR_NO_DATA)
		return 0;
	if (st != NO_ERROR)
		return LP_ERR_IO;
	for (IP_ADAPTER_ADDRESSES *a = *list; a != NULL; a = a->Next) {
		if (_stricmp(a->AdapterName, guid) == 0) {
			*hit = a;
			break;
		}
	}
	return 0;
}

int lp_tap_get_info(const struct lp_tap *t, struct lp_tap_info *out)
{
	IP_ADAPTER_ADDRESSES *list = NULL, *hit;
	uint8_t mac[LP_MAC_LEN];
	ULONG mtu = 0;
	DWORD got;
	int rc;

	memset(out, 0, sizeof(*out));
	memcpy(out->name, t->name, sizeof(t->name));
	memcpy(out->id, t->guid, sizeof(t->guid));
	out->up = t->media;
	rc = find_adapter(t->guid, &list, &hit);
	if (rc < 0)
		goto out;
	if (hit != NULL) {
		out->ifindex = hit->IfIndex;
		out->up = hit->OperStatus == IfOperStatusUp;
	}
	rc = tap_ioctl(t, TAP_WIN_IOCTL_GET_MAC, mac, sizeof(mac), mac, sizeof(mac), &got);
	if (rc < 0)
		goto out;
	if (got != sizeof(mac)) {
		rc = LP_ERR_IO;
		goto out;
	}
	rc = tap_ioctl(t, TAP_WIN_IOCTL_GET_MTU, &mtu, sizeof(mtu), &mtu, sizeof(mtu), &got);
	if (rc < 0)
		goto out;
	if (got != sizeof(mtu)) {
		rc = LP_ERR_IO;
		goto out;
	}
	memcpy(out->mac.b, mac, LP_MAC_LEN);
	out->mtu = mtu;
out:
	free(list);
	return rc;
}

int lp_tap_ipv4(const struct lp_tap *t, char *out, size_t cap)
{
	IP_ADAPTER_ADDRESSES *list = NULL, *hit;
	char text[16];
	int rc;

	if (cap == 0)
		return LP_ERR_NOBUF;
	out[0] = '\0';
	rc = find_adapter(t->guid, &list, &hit);
	if (rc < 0 || hit == NULL)
		goto out;
	for (IP_ADAPTER_UNICAST_ADDRESS *u = hit->FirstUnicastAddress; u != NULL; u = u->Next) {
		struct sockaddr_in sin;
		const uint8_t *b;

		if (u->Address.lpSockaddr == NULL || u->Address.lpSockaddr->sa_family != AF_INET ||
		    u->Address.iSockaddrLength < (INT)sizeof(sin))
			continue;
		memcpy(&sin, u->Address.lpSockaddr, sizeof(sin));
		b = (const uint8_t *)&sin.sin_addr;
		snprintf(text, sizeof(text), "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
		rc = lp_strlcpy_checked(out, cap, text);
		if (rc < 0)
			out[0] = '\0';
		break;
	}
out:
	free(list);
	return rc;
}
