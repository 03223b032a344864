/* lp_net_sys.h - the one place that picks the socket headers per platform. */
#ifndef LP_NET_SYS_H
#define LP_NET_SYS_H

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h> /* inet_pton, inet_ntop */
#include <netdb.h>     /* getaddrinfo, EAI_* */
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#endif /* LP_NET_SYS_H */
