/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/server: arca's HTTP endpoints (libmicrohttpd). So far: OPA's Data
 * API over an embedded Rego engine, so existing OPA clients can query arca:
 *
 *   POST /v1/data/<path>  {"input": ...}  ->  {"result": ...} or {} (undefined)
 *   GET  /v1/data/<path>                  ->  same, without input
 *   GET  /health                          ->  {}
 *
 * Errors use OPA's body {"code": ..., "message": ...}.
 */
#ifndef ARCA_SERVER_H
#define ARCA_SERVER_H

#include "base.h"
#include "rego.h"

#define SERVER_MAX_BODY_DEFAULT (8u << 20) /* bytes of one request body */
#define SERVER_MAX_PATHS 1024              /* distinct data paths prepared */

struct server;

struct server_opts {
	const char *addr; /* IPv4 literal; NULL = 127.0.0.1 */
	uint16_t port;    /* 0 = pick a free port */
	struct rego *rego; /* compiled engine, borrowed; outlives the server */
	size_t max_body;  /* 0 = SERVER_MAX_BODY_DEFAULT */
};

/* Starts serving on a background thread. All requests are handled on that
 * one thread, so the engine is never used concurrently. */
int server_start(const struct server_opts *o, struct server **out, struct arca_err *e);
/* The bound port (useful with port 0). */
uint16_t server_port(const struct server *s);
void server_stop(struct server *s);

#endif
