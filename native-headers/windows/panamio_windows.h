/*
 * The Windows declarations panamio binds (through jextract, see scripts/jextract windows): I/O completion
 * ports from kernel32, overlapped sockets from ws2_32 (AcceptEx/ConnectEx come through WSAIoctl), and the
 * structs and constants they use. The lists next to this file name what is extracted.
 */
#ifndef PANAMIO_WINDOWS_H
#define PANAMIO_WINDOWS_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#endif
