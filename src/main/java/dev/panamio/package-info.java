/**
 * panamio's public API: the event loop, TCP, leased native buffers, timers and statistics.
 */
package dev.panamio;
