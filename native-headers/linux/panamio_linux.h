/*
 * The Linux headers panamio's bindings come from (generated/linux, package dev.panamio.sys.linux.ffi).
 * scripts/jextract extracts the symbols listed beside this file; the conformance check
 * (LinuxBindingsConformanceTest) compiles static assertions against this same header.
 */
#ifndef PANAMIO_LINUX_H
#define PANAMIO_LINUX_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <poll.h>
#include <linux/io_uring.h>
#include <linux/time_types.h>

#endif
