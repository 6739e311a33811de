/**
 * A small HTTP/1.1 server and client on panamio's public API: {@link dev.panamio.http.HttpServer} answers
 * requests with keep-alive and pipelining; {@link dev.panamio.http.HttpClient#get} fetches a URI with a
 * non-blocking connect, write and read, and a deadline for the whole exchange.
 */
package dev.panamio.http;
